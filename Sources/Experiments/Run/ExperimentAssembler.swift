import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// Turns the finished units into the experiment's results: grids per layer, preset and seed; merged top patches
/// with crops and a gallery; per-filter numbers; the report; and manifest.json, written last.
///
/// Depends only on the units' files and records, so one run and any sharding of it give the same bytes.
struct ExperimentAssembler {
    let plan: ExperimentPlan
    let store: ExperimentStore

    func assemble(invocationStart: Date) throws {
        let start = Date()
        var records: [String: UnitRecord] = [:]
        var units: [ExperimentManifest.UnitEntry] = []
        for unit in plan.units {
            let record = try store.readJSON(UnitRecord.self, from: ExperimentStore.recordPath(unit))
            records[unit.id] = record
            units.append(.init(id: unit.id, files: record.files))
        }
        let config = plan.config
        var layers: [ExperimentManifest.LayerSummary] = []
        for layer in config.layers + config.patchLayers.filter({ !config.layers.contains($0) }) {
            layers.append(try summarize(layer: layer, records: records))
        }
        var maps: ExperimentManifest.FeatureMapsEntry?
        if config.outputs.contains(.featuremaps), let settings = config.featuremaps {
            let input = try FeatureMaps.input(photo: ExperimentPlan.photoURL(settings.photo, folder: plan.photoFolder), size: settings.size)
            try store.write(input, to: ExperimentLayout.featureMapPhoto)
            maps = .init(photo: (settings.photo as NSString).lastPathComponent, input: ExperimentLayout.featureMapPhoto, size: settings.size,
                         layers: Dictionary(uniqueKeysWithValues: settings.layers.map { ($0, ExperimentLayout.featureMaps(layer: $0)) }))
        }
        let photos = plan.photos.isEmpty ? nil
            : ExperimentManifest.PhotoSet(folder: config.photos ?? "$FILTERVIS_CACHE/photos", files: plan.photos)
        var manifest = ExperimentManifest(
            version: FilterVisVersion.current, name: config.name, config: config, model: plan.network.name,
            weights: plan.weights, preprocessing: plan.network.preprocessing.rawValue,
            presets: plan.presets.map(PresetDescription.init), seeds: config.seeds,
            convolution: ConvAlgorithm.current.rawValue, photos: photos,
            definitions: Self.definitions, units: units, layers: layers, featuremaps: maps,
            timings: .init(wallSeconds: 0, unitSeconds: 0, networkSeconds: 0, networkShare: 0, assembleSeconds: 0,
                           threads: Parallel.threads, units: [:]))
        if config.outputs.contains(.report) {
            try ReportWriter(manifest: manifest, store: store).write()
        }
        var timings = manifest.timings
        for unit in plan.units { if let t = store.timing(unit) { timings.units[unit.id] = t } }
        timings.unitSeconds = timings.units.values.reduce(0) { $0 + $1.seconds }
        timings.networkSeconds = timings.units.values.reduce(0) { $0 + $1.networkSeconds }
        timings.assembleSeconds = Date().timeIntervalSince(start)
        timings.networkShare = timings.networkSeconds / max(timings.unitSeconds + timings.assembleSeconds, 1e-9)
        timings.wallSeconds = Date().timeIntervalSince(invocationStart)
        manifest.timings = timings
        try store.writeJSON(manifest, to: "manifest.json")
    }

    static let definitions: [String: String] = [
        "score": "the engine's score: spatial mean of the score tensor on the optimised image at the optimisation size, no transforms",
        "peak": "maximum over positions of the score tensor on the saved 8-bit preference image",
        "best_patch_activation": "maximum over positions of the score tensor over all photos as the patch search sees them (the patch's scale: its shorter side in px, 0 = resized to 256 and centre-cropped to 224)",
        "peak_over_best_patch": "the best seed's peak divided by best_patch_activation (the same tensor): above 1, the synthetic image excites the filter more than any photo",
        "seed_correlation": "mean pairwise Pearson correlation of the seeds' saved images (RGB bytes); near 1: the same picture every seed",
        "score_spread": "max - min of the seeds' scores",
        "dead": "the score stayed at or below 0 for every seed",
        "score_tensor": "the post-ReLU output of the layer's conv (e.g. relu3_1 for conv3_1), read by scores, peaks and patches",
    ]

    // MARK: One layer

    func summarize(layer: String, records: [String: UnitRecord]) throws -> ExperimentManifest.LayerSummary {
        let config = plan.config
        let filters = plan.filters[layer]!
        let visualised = config.outputs.contains(.filters) && config.layers.contains(layer)
        var grids: [String] = []
        // filter -> preset -> seed entries
        var seedEntries: [Int: [String: [ExperimentManifest.SeedEntry]]] = [:]
        if visualised {
            for preset in plan.presets {
                for seed in config.seeds {
                    var tiles: [Image] = [], labels: [String] = []
                    for unit in plan.units {
                        guard case let .filters(l, p, s, _, _) = unit, l == layer, p == preset.name, s == seed else { continue }
                        for entry in records[unit.id]!.filters ?? [] {
                            tiles.append(try Image(contentsOf: store.url(entry.image)))
                            labels.append(entry.dead ? "\(entry.filter) dead" : String(entry.filter))
                            seedEntries[entry.filter, default: [:]][preset.name, default: []].append(
                                // `run` records every filter's peak (only `visualize` leaves it out).
                                .init(seed: seed, image: entry.image, score: entry.score, peak: entry.peak ?? 0, dead: entry.dead))
                        }
                    }
                    let path = ExperimentLayout.grid(layer: layer, preset: preset.name, seed: seed)
                    try store.write(try Image.grid(tiles, labels: labels, layout: GridLayout(columns: Int(Double(tiles.count).squareRoot().rounded(.up)))), to: path)
                    grids.append(path)
                }
            }
        }

        var patchesByFilter: [Int: [PatchRecord]] = [:]
        var gallery: String?, photoCount: Int?, skipped: [SkippedFile]?
        if config.outputs.contains(.patches), config.patchLayers.contains(layer) {
            let parts = plan.units.compactMap { unit -> String? in
                guard case let .patches(l, part, _) = unit, l == layer else { return nil }
                return ExperimentLayout.patchPart(layer: layer, part: part)
            }
            let merged = try PatchSearch.merge(try parts.map { try store.readJSON(PatchSearchResult.self, from: $0) })
            let scoreLayer = plan.scoreLayer(layer).name
            // Gallery rows: the filter's first preference image (or a blank) labelled with its index, then its
            // patches best first, blanks where there are fewer than `top`.
            let size = config.patches.cropSize
            let blank = Image(width: size, height: size, channels: 3, fill: .white)
            var tiles: [Image] = [], labels: [String] = []
            for filter in filters {
                let found = ExperimentPatches.patches(in: merged, layer: scoreLayer, filter: filter)
                guard !found.isEmpty else { continue }
                let preference = plan.presets.first.flatMap { seedEntries[filter]?[$0.name]?.first }
                tiles.append(try preference.map { try Image(contentsOf: store.url($0.image)).resized(width: size, height: size) } ?? blank)
                labels.append("#\(filter)")
                for (rank, patch) in found.enumerated() {
                    let crop = try PatchSearch.crop(patch, size: config.patches.cropSize)
                    let path = ExperimentLayout.patchCrop(layer: layer, filter: filter, rank: rank + 1)
                    try store.write(crop, to: path)
                    tiles.append(crop)
                    labels.append(HTML.number(patch.activation))  // short enough for small crops; rows are filters in order
                    patchesByFilter[filter, default: []].append(PatchRecord(patch, rank: rank + 1, folder: plan.photoFolder, crop: path))
                }
                for _ in found.count..<max(found.count, config.patches.top) { tiles.append(blank); labels.append("") }
            }
            if !tiles.isEmpty {
                gallery = ExperimentLayout.patchGallery(layer: layer)
                try store.write(try Image.grid(tiles, labels: labels, layout: GridLayout(columns: config.patches.top + 1)), to: gallery!)
            }
            photoCount = merged.imageCount
            skipped = merged.skipped.map { SkippedFile(path: ($0.path as NSString).lastPathComponent, reason: $0.reason) }
            let listing = LayerPatches(layer: layer, scoreTensor: scoreLayer, settings: merged.settings, photos: merged.imageCount,
                                       skipped: skipped ?? [], filters: filters.map { FilterPatches(filter: $0, patches: patchesByFilter[$0] ?? []) })
            try store.writeJSON(listing, to: ExperimentLayout.patches(layer: layer))
        }

        var summaries: [ExperimentManifest.FilterSummary] = []
        for filter in filters {
            let patches = patchesByFilter[filter] ?? []
            let best = patches.first?.activation
            var presets: [ExperimentManifest.PresetSummary] = []
            for preset in plan.presets where visualised {
                let seeds = seedEntries[filter]?[preset.name] ?? []
                let scores = seeds.map(\.score)
                let images = try seeds.map { try Image(contentsOf: store.url($0.image)) }
                let bestPeak = seeds.map(\.peak).max() ?? 0
                presets.append(.init(
                    preset: preset.name, seeds: seeds, meanScore: scores.reduce(0, +) / Float(max(scores.count, 1)),
                    scoreSpread: (scores.max() ?? 0) - (scores.min() ?? 0), seedCorrelation: SeedStability.meanPairwiseCorrelation(images),
                    dead: seeds.allSatisfy(\.dead), peakOverBestPatch: best.flatMap { $0 > 0 ? bestPeak / $0 : nil }))
            }
            let card = config.outputs.contains(.report) ? ExperimentLayout.card(layer: layer, filter: filter) : nil
            summaries.append(.init(filter: filter, card: card, presets: presets, patches: patches, bestPatchActivation: best))
        }
        return .init(layer: layer, scoreTensor: plan.scoreLayer(layer).name, grids: grids, patchGallery: gallery,
                     patchPhotos: photoCount, skippedPhotos: skipped, filters: summaries)
    }

}
