import Foundation
import Visualization

/// The static HTML report of an experiment: index.html by layer, and one card page per filter.
///
/// Plain HTML and inline CSS, no scripts, no external resources; every path relative, every number formatted
/// the same way, nothing time-dependent, so the pages are byte-identical across reruns and shardings.
struct ReportWriter {
    let manifest: ExperimentManifest
    let store: ExperimentStore

    typealias M = ExperimentManifest

    func write() throws {
        try store.write(Array(index().utf8), to: "index.html")
        for layer in manifest.layers {
            for (i, filter) in layer.filters.enumerated() {
                guard let card = filter.card else { continue }
                let previous = i > 0 ? layer.filters[i - 1] : nil, next = i + 1 < layer.filters.count ? layer.filters[i + 1] : nil
                try store.write(Array(cardPage(layer: layer, filter: filter, previous: previous, next: next).utf8), to: card)
            }
        }
    }

    private var e: (String) -> String { HTML.escape }

    /// With a layer of more filters than this, every layer is drawn as an atlas grid (small thumbnails, no score
    /// line) and the patch galleries (a row per filter) are linked rather than shown.
    static let atlasThreshold = 64
    var isAtlas: Bool { manifest.layers.contains { $0.filters.count > Self.atlasThreshold } }

    // MARK: Index

    func index() -> String {
        var body = "<h1>\(e(manifest.name))</h1>\n"
        body += "<p class=\"lead\">\(e(manifest.model)) · \(manifest.layers.count) layer(s) · presets \(e(manifest.presets.map(\.name).joined(separator: ", "))) · seeds \(manifest.seeds.map(String.init).joined(separator: ", "))</p>\n"
        body += facts()
        if manifest.layers.count > 1 || manifest.featuremaps != nil {
            body += "<ul class=\"toc\">\n"
            for layer in manifest.layers { body += "<li><a href=\"#\(e(layer.layer))\">\(e(layer.layer))</a></li>\n" }
            if manifest.featuremaps != nil { body += "<li><a href=\"#featuremaps\">feature maps</a></li>\n" }
            body += "</ul>\n"
        }
        for layer in manifest.layers { body += layerSection(layer) }
        if let maps = manifest.featuremaps { body += featureMapsSection(maps) }
        body += definitions()
        return HTML.page(title: "\(manifest.name) · filtervis", root: "", header: e(manifest.name), body: body, css: isAtlas ? HTML.atlasCSS : "")
    }

    func facts() -> String {
        var rows: [(String, String)] = [("Model", "\(e(manifest.model)) (preprocessing \(e(manifest.preprocessing)))")]
        let weights = manifest.weights
        rows.append(("Weights", "<code>\(e(weights["file"] ?? "?"))</code> sha256 <code>\(e(String((weights["file_sha256"] ?? "?").prefix(16))))…</code>"))
        for preset in manifest.presets {
            rows.append(("Preset \(e(preset.name))", "\(preset.size) px, \(preset.steps) steps, \(e(preset.method)), \(e(preset.parametrization))"
                         + (preset.decorrelateColor ? " decorrelated" : "") + (preset.transforms.isEmpty ? ", no transforms" : ", \(preset.transforms.count) transforms")))
        }
        if let photos = manifest.photos { rows.append(("Photos", "\(photos.files.count) in <code>\(e(photos.folder))</code>")) }
        rows.append(("Work units", "\(manifest.units.count)"))
        rows.append(("filtervis", e(manifest.version)))
        return "<table>\n" + rows.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
    }

    func layerSection(_ layer: M.LayerSummary) -> String {
        var s = "<section class=\"card\" id=\"\(e(layer.layer))\">\n<h2>\(e(layer.layer))</h2>\n"
        let dead = layer.filters.filter { f in !f.presets.isEmpty && f.presets.allSatisfy(\.dead) }.map(\.filter)
        s += "<p class=\"lead\">\(layer.filters.count) filter(s); scores read from <code>\(e(layer.scoreTensor))</code>"
        s += dead.isEmpty ? "; none dead." : "; dead in every preset: \(dead.map(String.init).joined(separator: ", "))."
        s += " Click a filter for its card.</p>\n"
        let presetNames = layer.filters.first?.presets.map(\.preset) ?? []
        // Whole networks (an atlas) are a dense grid of small thumbnails per layer, the score in each tooltip.
        let atlas = isAtlas
        for (p, preset) in presetNames.enumerated() {
            let seed = layer.filters.first?.presets[p].seeds.first?.seed ?? 0
            s += "<h3>\(e(preset)) · seed \(seed) · \(atlas ? "filter number under each image, score in its tooltip; red: dead" : "score under each image")</h3>\n"
            s += atlas ? "<div class=\"thumbs atlas\">\n" : "<div class=\"thumbs\">\n"
            for filter in layer.filters {
                let summary = filter.presets[p]
                guard let first = summary.seeds.first else { continue }
                let cls = summary.dead ? "thumb dead" : "thumb"
                let score = summary.dead ? "dead" : HTML.number(first.score)
                if atlas {
                    s += "<a class=\"\(cls)\" href=\"\(e(filter.card ?? first.image))\" title=\"filter \(filter.filter): \(score)\"><img src=\"\(e(first.image))\" alt=\"\(filter.filter)\" loading=\"lazy\">\(filter.filter)</a>\n"
                } else {
                    s += "<a class=\"\(cls)\" href=\"\(e(filter.card ?? first.image))\"><img src=\"\(e(first.image))\" alt=\"filter \(filter.filter)\">"
                    s += "\(filter.filter)<span class=\"sub\">\(score)</span></a>\n"
                }
            }
            s += "</div>\n"
            let grids = layer.grids.filter { $0.contains("/grid-\(preset)-seed") }
            if !grids.isEmpty {
                s += "<p>Grids: " + grids.map { "<a href=\"\(e($0))\">\(e(($0 as NSString).lastPathComponent))</a>" }.joined(separator: " · ") + "</p>\n"
            }
        }
        if let gallery = layer.patchGallery, isAtlas {
            s += "<p>Top photo patches over \(layer.patchPhotos ?? 0) photos: on each filter's card, and all of them in "
            s += "<a href=\"\(e(gallery))\">\(e((gallery as NSString).lastPathComponent))</a> (one row per filter: its image, then its patches best first).</p>\n"
        } else if let gallery = layer.patchGallery {
            s += "<h3>Top photo patches over \(layer.patchPhotos ?? 0) photos · one row per filter: its image, then its patches best first</h3>\n"
            // Small crops are shown enlarged (about 96 px each) so that a row of patches reads at a glance.
            let crop = manifest.config.patches.cropSize, columns = manifest.config.patches.top
            let width = min(1064, ((columns + 1) * (crop + 4) + 4) * max(1, 96 / crop))
            s += "<figure class=\"wide\"><a href=\"\(e(gallery))\"><img style=\"width: \(width)px; image-rendering: pixelated\" src=\"\(e(gallery))\" alt=\"patch gallery of \(e(layer.layer))\"></a></figure>\n"
            if let skipped = layer.skippedPhotos, !skipped.isEmpty {
                s += "<p>Skipped photos: " + skipped.map { "\(e($0.path)) (\(e($0.reason)))" }.joined(separator: "; ") + "</p>\n"
            }
        }
        return s + "</section>\n"
    }

    func featureMapsSection(_ maps: M.FeatureMapsEntry) -> String {
        var s = "<section class=\"card\" id=\"featuremaps\">\n<h2>Feature maps</h2>\n"
        s += "<p class=\"lead\">Every channel of each layer for one photo (<code>\(e(maps.photo))</code>, \(maps.size) px square); "
        s += "each map is scaled to its own range, black = its minimum, white = its maximum.</p>\n"
        s += "<div class=\"row\"><figure class=\"seed\"><img src=\"\(e(maps.input))\" alt=\"input photo\"><figcaption>input</figcaption></figure></div>\n"
        for layer in maps.layers.keys.sorted(by: { a, b in
            (manifest.config.featuremaps?.layers.firstIndex(of: a) ?? 0) < (manifest.config.featuremaps?.layers.firstIndex(of: b) ?? 0)
        }) {
            s += "<h3>\(e(layer))</h3>\n<figure class=\"wide\"><a href=\"\(e(maps.layers[layer]!))\"><img src=\"\(e(maps.layers[layer]!))\" alt=\"feature maps of \(e(layer))\"></a></figure>\n"
        }
        return s + "</section>\n"
    }

    func definitions() -> String {
        "<h2>What the numbers mean</h2>\n<dl class=\"defs\">\n"
            + manifest.definitions.keys.sorted().map { "<dt>\(e($0))</dt><dd>\(e(manifest.definitions[$0]!))</dd>" }.joined(separator: "\n")
            + "\n</dl>\n"
    }

    // MARK: Cards

    /// How the patch search saw the photos: scale 0 is torchvision's evaluation view.
    static func view(_ scale: Int) -> String {
        scale == 0 ? "resized to 256 and centre-cropped to 224 px" : "shorter side \(scale) px"
    }

    func cardPage(layer: M.LayerSummary, filter: M.FilterSummary, previous: M.FilterSummary?, next: M.FilterSummary?) -> String {
        let root = "../"
        func link(_ path: String) -> String { e(root + path) }
        func cardLink(_ f: M.FilterSummary) -> String { e((f.card.map { ($0 as NSString).lastPathComponent }) ?? "") }
        let dead = !filter.presets.isEmpty && filter.presets.allSatisfy(\.dead)
        var s = "<nav class=\"crumbs\"><a href=\"\(root)index.html#\(e(layer.layer))\">← \(e(manifest.name)) / \(e(layer.layer))</a>"
        if let previous { s += "<a href=\"\(cardLink(previous))\">‹ filter \(previous.filter)</a>" }
        if let next { s += "<a href=\"\(cardLink(next))\">filter \(next.filter) ›</a>" }
        s += "</nav>\n<h1>\(e(layer.layer)) · filter \(filter.filter) "
        if !filter.presets.isEmpty { s += dead ? "<span class=\"badge dead\">dead</span>" : "<span class=\"badge alive\">alive</span>" }
        let reads = filter.patches.isEmpty ? "scores and peaks read" : "scores, peaks and patch activations all read"
        s += "</h1>\n<p class=\"lead\">\(e(manifest.model)); \(reads) <code>\(e(layer.scoreTensor))</code>.</p>\n"

        if !filter.presets.isEmpty {
            s += "<section class=\"card\">\n<h2>Numbers</h2>\n<table>\n<tr><th>preset</th><th class=\"num\">mean score</th><th class=\"num\">score spread</th>"
            let withPatches = filter.bestPatchActivation != nil
            s += "<th class=\"num\">best peak</th>" + (withPatches ? "<th class=\"num\">best patch</th><th class=\"num\">peak / patch</th>" : "")
            s += "<th class=\"num\">seed correlation</th><th>state</th></tr>\n"
            for p in filter.presets {
                s += "<tr><td>\(e(p.preset))</td><td class=\"num\">\(HTML.number(p.meanScore))</td><td class=\"num\">\(HTML.number(p.scoreSpread))</td>"
                s += "<td class=\"num\">\(HTML.number(p.seeds.map(\.peak).max()))</td>"
                if withPatches {
                    s += "<td class=\"num\">\(HTML.number(filter.bestPatchActivation))</td><td class=\"num\">\(HTML.number(p.peakOverBestPatch))</td>"
                }
                s += "<td class=\"num\">\(HTML.number(p.seedCorrelation))</td>"
                s += "<td>\(p.dead ? "<span class=\"badge dead\">dead</span>" : "<span class=\"badge alive\">alive</span> in \(p.seeds.filter { !$0.dead }.count)/\(p.seeds.count) seeds")</td></tr>\n"
            }
            s += "</table>\n<p class=\"lead\">Score: spatial mean on the optimised image. Peak: the strongest position on the saved image. "
            s += withPatches ? "Best patch: the strongest position over all photos. Peak / patch above 1: the synthetic image beats every photo. " : ""
            s += "Seed correlation: how alike the seeds' images are (1: identical).</p>\n</section>\n"
            for p in filter.presets {
                s += "<section class=\"card\">\n<h2>Preference images · \(e(p.preset))</h2>\n<div class=\"row\">\n"
                for seed in p.seeds {
                    s += "<figure class=\"seed\"><img src=\"\(link(seed.image))\" alt=\"seed \(seed.seed)\">"
                    s += "<figcaption>seed \(seed.seed) · score \(HTML.number(seed.score)) · peak \(HTML.number(seed.peak))\(seed.dead ? " · dead" : "")</figcaption></figure>\n"
                }
                s += "</div>\n</section>\n"
            }
        }
        if !filter.patches.isEmpty {
            s += "<section class=\"card\">\n<h2>Top photo patches</h2>\n<div class=\"row\">\n"
            for patch in filter.patches {
                // `run` saves every patch's crop; a record without one gets a caption only.
                s += "<figure class=\"patch\">" + (patch.crop.map { "<img src=\"\(link($0))\" alt=\"patch \(patch.rank)\">" } ?? "")
                s += "<figcaption>#\(patch.rank) · \(HTML.number(patch.activation))<br>\(e(patch.photo))</figcaption></figure>\n"
            }
            s += "</div>\n<p class=\"lead\">The receptive field of the strongest position in each photo (\(Self.view(filter.patches.first?.scale ?? 0))), best first.</p>\n</section>\n"
        }
        return HTML.page(title: "\(layer.layer) filter \(filter.filter) · \(manifest.name)", root: root,
                         header: "\(e(manifest.name)) / \(e(layer.layer)) / filter \(filter.filter)", body: s)
    }
}
