import ArgumentParser
import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// `filtervis patches`: for each filter of some layers, the photo regions that excite it most.
struct PatchesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patches",
        abstract: "Find the photo regions each filter responds to most (top-activating patches).",
        discussion: """
        One pass over the photos (JPEG/PNG, found recursively, sorted by path):
        each photo is forwarded once to the deepest layer and, per filter, the
        --top strongest units are kept (at most --per-image per photo). Each
        unit's receptive field is mapped back to the original photo's pixels
        and cropped from it (mid-grey where it crosses the border).

        Preprocessing: torchvision's evaluation policy by default (shorter side
        256, centre 224 crop); with --scales the whole photo at each
        shorter-side size.

        Writes into --out:
          LAYER/gallery.png      a row per filter: index, patches, activations
          LAYER/filter_NNNN.png  the same row for one filter
          LAYER/crops/           full-resolution crops (with --save-crops)
          index.json             per patch: photo path and sha256, scale, unit
                                 position, rectangle in original pixels,
                                 activation; and the file names above
        Unreadable or corrupt photos are skipped (listed in index.json); files
        that are not JPEG or PNG are ignored. Results do not depend on
        --threads or on the order the file system lists the photos in.

        Examples:
          filtervis patches --layers conv3_1,conv5_3 \\
              --images ~/.cache/filtervis/photos --out /tmp/p
          filtervis patches --model alexnet --layers conv5 --filters 0-31 \\
              --top 6 --images photos --out /tmp/a
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Layers, comma-separated: conv3_1,conv5_3 (conv, ReLU or pool layers).")
    var layers: String

    @Option(help: "Folder of photos (searched recursively).")
    var images: String

    @Option(parsing: .unconditional, help: "Patches per filter (a gallery row must stay within \(PatchesCommand.widestGallery) pixels: 992 at --tile 64).")
    var top = 9

    @Option(parsing: .unconditional, help: "At most this many patches of one photo per filter (0: unlimited).")
    var perImage = 1

    @Option(help: "Shorter-side sizes to search at, e.g. 224,320 (default: resize 256, centre-crop 224).")
    var scales: String?

    @Option(help: "Filters: a range (0-63), a list (3,7,9), both, or all (per layer).")
    var filters = "all"

    @Option(parsing: .unconditional, help: "Tile size in pixels of each patch in the galleries (16 to 512).")
    var tile = 64

    @Flag(help: "Also write every patch's crop at its original resolution into LAYER/crops/.")
    var saveCrops = false

    @Option(parsing: .unconditional, help: "Worker threads (default: all cores). Results do not depend on it.")
    var threads: Int?

    @Option(help: "Output folder, replaced as a whole when the run succeeds (a failed run leaves it as it was). Refused if it holds files `patches` did not write.")
    var out: String

    /// A gallery row is --top tiles wide: wider images than this are refused before any work.
    static let widestGallery = 65_535

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
        if perImage < 0 { throw ValidationError("--per-image must be 0 (unlimited) or more, got \(perImage)") }
        if tile < 16 || tile > 512 { throw ValidationError("--tile must be between 16 and 512 pixels, got \(tile)") }
        let mostTiles = (Self.widestGallery - 2 - tile) / (tile + 2)
        if top > mostTiles {
            throw ValidationError("--top \(top) makes gallery rows wider than \(Self.widestGallery) pixels at --tile \(tile); use --top \(mostTiles) or less")
        }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
        _ = try parsedScales()
        if layerNames.isEmpty { throw ValidationError("--layers is empty; give e.g. --layers conv3_1,conv5_3") }
    }

    var layerNames: [String] { layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    func parsedScales() throws -> [Int] {
        guard let scales else { return [] }
        let parts = scales.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard values.count == parts.count, !values.isEmpty, values.allSatisfy({ $0 >= 16 && $0 <= 4096 }) else {
            throw ValidationError("--scales '\(scales)': give shorter-side sizes from 16 to 4096, e.g. 224,320")
        }
        return values
    }

    func run() throws {
        try runReportingErrors(threads: threads) {
            let started = Date()
            // FILTERVIS_ALLOCATOR still decides when set.
            CommandEnvironment.current.apply(preferredAllocator: PatchSearch.preferredAllocator)
            let settings = PatchSearchSettings(top: top, perImage: perImage, scales: try parsedScales())

            // Everything that can be wrong is checked before the first photo is read.
            let outDir = URL(fileURLWithPath: out, isDirectory: true)
            try OutputFolder.prepare(outDir, for: PatchesOutput.layout)
            let network = try modelOptions.loadNetwork()
            var selection: [String: [Int]] = [:]
            let targets = try layerNames.map { try network.layer($0) }
            for target in targets {
                selection[target.name] = try FilterSelection.parse(filters, channels: target.channels, layer: target.name)
            }
            try PatchSearch.validate(network: network, layers: targets, settings: settings, filters: selection)
            let folder = URL(fileURLWithPath: images, isDirectory: true)
            let files = try PatchSearch.imageFiles(in: folder)
            if files.isEmpty { throw PatchSearchError.noImages(folder: folder.path) }

            log("patches: \(network.name) \(layerNames.joined(separator: ", ")), \(files.count) photo(s), top \(top), "
                + "per image \(perImage), \(settings.scales.isEmpty ? "256/224 centre crop" : "scales \(settings.scales)"), "
                + "\(Parallel.threads) thread(s) -> \(out)")
            let progress = ProgressReporter(label: "patches")
            let result = try PatchSearch.run(network: network, layers: targets, images: files, settings: settings,
                                             filters: selection) { done, total in progress.update(done, of: total) }
            for skip in result.skipped { log("patches: skipped \(skip.path): \(skip.reason)") }

            var seconds = 0.0
            try OutputFolder.replace(outDir, for: PatchesOutput.layout) { staging in
                let written = try PatchesOutput.write(result, network: network, filters: selection, tile: tile,
                                                      saveCrops: saveCrops, to: staging)
                seconds = Date().timeIntervalSince(started)
                try PatchesOutput.writeIndex(result, files: written, network: network, imagesFolder: folder.path,
                                             wallSeconds: seconds, to: staging)
            }
            log(String(format: "patches: %d photo(s) searched, %d skipped; wrote %@ and index.json in %.1f s",
                       result.imageCount, result.skipped.count, layerNames.map { "\($0)/gallery.png" }.joined(separator: ", "), seconds))
        }
    }
}

/// The files of a patch search: per layer a gallery, one strip per filter, optional crops, and index.json.
/// They are written into a temporary folder that replaces --out as a whole (`OutputFolder`).
enum PatchesOutput {
    /// The files a run writes (anything else in --out is refused).
    static let layout = OutputLayout(command: "patches", files: "index.json, LAYER/gallery.png, LAYER/filter_NNNN.png, LAYER/crops/") { path, isDirectory in
        switch path.count {
        case 1: return isDirectory || path[0] == "index.json"
        case 2: return isDirectory ? path[1] == "crops" : path[1] == "gallery.png" || OutputLayout.numbered(path[1], "filter_", 1, ".png")
        case 3: return !isDirectory && path[1] == "crops" && OutputLayout.numbered(path[2], "filter_", 2, ".png")
        default: return false
        }
    }

    /// Output file names (relative to --out) per layer.
    struct LayerFiles: Codable {
        struct FilterFiles: Codable {
            let filter: Int
            let strip: String
            /// Aligned with the filter's patches in the search result; empty without --save-crops.
            let crops: [String]
        }
        enum CodingKeys: String, CodingKey { case gallery, module, receptiveField = "receptive_field", filters }
        let gallery: String
        let module: String
        let receptiveField: ReceptiveFieldDescription
        let filters: [FilterFiles]
    }

    struct ReceptiveFieldDescription: Codable {
        let size: Int, jump: Int, firstOffset: Int
        enum CodingKeys: String, CodingKey { case size, jump, firstOffset = "first_offset" }
    }

    /// index.json: the search result (readable back as `PatchSearchResult` with a plain `JSONDecoder`) and the
    /// files written from it.
    struct Index: Codable {
        let tool: String
        let version: String
        let weights: [String: String]
        let preprocessing: String
        let imagesFolder: String
        let threads: Int
        let wallSeconds: Double
        let paddingColor: String
        let rectangles: String
        let search: PatchSearchResult
        let files: [String: LayerFiles]
        enum CodingKeys: String, CodingKey {
            case tool, version, weights, preprocessing, imagesFolder = "images_folder", threads,
                 wallSeconds = "wall_seconds", paddingColor = "padding_color", rectangles, search, files
        }
    }

    static func write(_ result: PatchSearchResult, network: Network, filters: [String: [Int]], tile: Int,
                      saveCrops: Bool, to dir: OutputStaging) throws -> [String: LayerFiles] {
        var files: [String: LayerFiles] = [:]
        let columns = result.settings.top
        for (layer, perFilter) in result.layers.sorted(by: { $0.key < $1.key }) {
            try dir.makeFolder(saveCrops ? "\(layer)/crops" : layer)
            let chosen = filters[layer] ?? Array(perFilter.indices)
            // Crops for every patch of the layer at once, so that each photo is decoded once.
            let patches = chosen.flatMap { perFilter[$0] }
            let tiles = try PatchSearch.crops(patches, size: tile)
            let full = saveCrops ? try PatchSearch.crops(patches) : nil
            var offsets: [Int] = [0]
            for filter in chosen { offsets.append(offsets.last! + perFilter[filter].count) }
            let rows = chosen.indices.map { j in
                (label: String(chosen[j]), crops: Array(tiles[offsets[j]..<offsets[j + 1]]), activations: perFilter[chosen[j]].map(\.activation))
            }

            // Strips (and crops) per filter, filters split over the workers; each writes only its own files.
            var entries = [Result<LayerFiles.FilterFiles, Error>?](repeating: nil, count: chosen.count)
            entries.withUnsafeMutableBufferPointer { slots in
                let slots = slots
                Parallel.forEach(chosen.count) { j in
                    slots[j] = Result {
                        let filter = chosen[j]
                        let stripName = "\(layer)/" + String(format: "filter_%04d.png", filter)
                        try dir.write(PatchGallery.strip(label: rows[j].label, crops: rows[j].crops, activations: rows[j].activations,
                                                         columns: columns, tile: tile), to: stripName)
                        var cropNames: [String] = []
                        if let full {
                            for k in offsets[j]..<offsets[j + 1] {
                                let name = "\(layer)/crops/" + String(format: "filter_%04d_%02d.png", filter, k - offsets[j])
                                try dir.write(full[k], to: name)
                                cropNames.append(name)
                            }
                        }
                        return LayerFiles.FilterFiles(filter: filter, strip: stripName, crops: cropNames)
                    }
                }
            }
            let galleryName = "\(layer)/gallery.png"
            try dir.write(PatchGallery.rows(rows, columns: columns, tile: tile), to: galleryName)
            let target = try network.layer(layer)
            let field = network.receptiveField(of: target)
            files[layer] = LayerFiles(gallery: galleryName, module: target.path,
                                      receptiveField: .init(size: field.size, jump: field.jump, firstOffset: field.firstOffset),
                                      filters: try entries.map { try $0!.get() })
        }
        return files
    }

    static func writeIndex(_ result: PatchSearchResult, files: [String: LayerFiles], network: Network, imagesFolder: String,
                           wallSeconds: Double, to dir: OutputStaging) throws {
        let index = Index(
            tool: "filtervis", version: FilterVisVersion.current, weights: network.provenance,
            preprocessing: network.preprocessing.rawValue, imagesFolder: imagesFolder, threads: Parallel.threads,
            wallSeconds: wallSeconds, paddingColor: "rgb(128,128,128) where a receptive field crosses the photo's border",
            rectangles: "receptive field of the unit in the original photo's pixels (rows top..<top+height, columns left..<left+width), "
                + "mapped back through the centre crop and resize, rounded outward, not clipped",
            search: result, files: files)
        // Keys are spelled snake_case by the types themselves (a key strategy would also rewrite the layer-name
        // dictionary keys and could not read `image_sha256` back), so a plain JSONDecoder reads the file.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try dir.write(Array(encoder.encode(index)), to: "index.json")
    }

    /// Reads index.json back (the search result and the files).
    static func readIndex(_ url: URL) throws -> Index {
        let data: Data
        do { data = Data(try FileReading.bytes(of: url, limit: FileReading.textLimit)) } catch let error as FileReadError {
            throw CLIError("\(url.path): cannot read the patches index (\(error.reason)); run `filtervis patches` first")
        }
        do { return try JSONDecoder().decode(Index.self, from: data) } catch {
            throw CLIError("\(url.path): not a filtervis patches index.json (\(error))")
        }
    }
}
