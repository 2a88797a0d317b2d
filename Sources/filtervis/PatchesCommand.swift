import ArgumentParser
import Experiments
import FileOutput
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
          index.json             per filter its strip and patches: rank,
                                 photo (inside --images) and sha256, scale,
                                 unit position, rectangle in original
                                 pixels, activation, crop file
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

    @OptionGroup var threading: ThreadsOption

    @OptionGroup var output: OutputFolderOption

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
        try runReportingErrors(threads: threading.threads) {
            let started = Date()
            // FILTERVIS_ALLOCATOR still decides when set.
            CommandEnvironment.current.apply(preferredAllocator: PatchSearch.preferredAllocator)
            let settings = PatchSearchSettings(top: top, perImage: perImage, scales: try parsedScales())

            // Everything that can be wrong is checked before the first photo is read.
            let outDir = output.url
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
                + "\(Parallel.threads) thread(s) -> \(output.out)")
            let progress = ProgressReporter(label: "patches")
            let result = try PatchSearch.run(network: network, layers: targets, images: files, settings: settings,
                                             filters: selection) { done, total in progress.update(done, of: total) }
            for skip in result.skipped { log("patches: skipped \(skip.path): \(skip.reason)") }

            var seconds = 0.0
            try PatchesOutput.write(result, network: network, filters: selection, tile: tile, saveCrops: saveCrops,
                                    images: folder, to: outDir) {
                seconds = Date().timeIntervalSince(started)
                return seconds
            }
            log(String(format: "patches: %d photo(s) searched, %d skipped; wrote %@ and index.json in %.1f s",
                       result.imageCount, result.skipped.count, layerNames.map { "\($0)/gallery.png" }.joined(separator: ", "), seconds))
        }
    }
}
