import ArgumentParser
import Experiments
import FileOutput
import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// `filtervis card`: one filter's preference image next to the photo patches that excite it most.
struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "One filter on one card: its preference image beside its top-activating photo patches.",
        discussion: """
        The preference image is made as `filtervis visualize` makes it (the
        same --preset and --seed give the same image). The patches come from a
        previous `filtervis patches` run (--patches-index its index.json) or
        from a search over --images.

        Examples:
          filtervis card --layer conv3_1 --filter 12 \\
              --images ~/.cache/filtervis/photos --out /tmp/card.png
          filtervis card --layer conv5_3 --filter 7 \\
              --patches-index /tmp/p/index.json --out /tmp/card.png
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Layer: conv3_1, conv5_3, conv5 (AlexNet), ...")
    var layer: String

    @Option(parsing: .unconditional, help: "Filter index (0 to the layer's filter count - 1).")
    var filter: Int

    @Option(help: "Folder of photos to search for the patches.")
    var images: String?

    @Option(help: "index.json of a `filtervis patches` run to take the patches from instead of searching.")
    var patchesIndex: String?

    @Option(parsing: .unconditional, help: "Patches shown, 1 to \(CardCommand.mostPatches) (a search keeps this many; an index shows at most its own).")
    var top = 9

    @Option(help: "Preference-image recipe: \(Preset.all.map(\.name).joined(separator: ", ")).")
    var preset = "default"

    @Option(parsing: .unconditional, help: "Random seed of the preference image (0 or more).")
    var seed: UInt64 = 0

    @OptionGroup var threading: ThreadsOption

    /// Patches on one card at most (3 per row).
    static let mostPatches = 99

    @Option(help: "Output PNG file (replaced only once the new card is complete).")
    var out: String

    func validate() throws {
        if (images == nil) == (patchesIndex == nil) {
            throw ValidationError("give exactly one of --images DIR (search) or --patches-index FILE (a previous run)")
        }
        if top < 1 || top > Self.mostPatches { throw ValidationError("--top must be from 1 to \(Self.mostPatches), got \(top)") }
        if filter < 0 { throw ValidationError("--filter must be 0 or more, got \(filter)") }
        guard ImageFormat.forWriting(path: out) == .png else { throw ValidationError("--out must name a .png file") }
        do { _ = try Preset.named(preset) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try runReportingErrors(threads: threading.threads) {
            let outURL = URL(fileURLWithPath: out)
            try OutputFile.prepare(outURL)
            let network = try modelOptions.loadNetwork()
            let target = try network.layer(layer)
            let channels = target.channels
            guard (0..<channels).contains(filter) else {
                throw ModelError.filterOutOfRange(String(filter), layer: layer, channels: channels)
            }
            let job = try VisualizationJob(network: network, layer: target, filters: [filter], preset: try Preset.named(preset),
                                           seed: seed, batchSize: 1)
            let patches = try findPatches(network: network, layer: target)

            log("card: \(network.name) \(layer) filter \(filter): preference image (preset \(preset), seed \(seed))")
            let progress = ProgressReporter(label: "card")
            let results = try job.run { done, total in progress.update(done, of: total) }
            try FilterResult.requireFiniteScores(results, layer: layer)
            let result = results[0]
            let preference = Image(tensor: reshape(result.rgb, [1] + result.rgb.shape))
            let card = CardRecord(model: network.name, layer: layer, filter: filter, preset: preset, seed: seed, patches: patches)
            try CardOutput.write(card, preference: preference, to: outURL)
            log("card: wrote \(out) (\(patches.count) patch(es))")
        }
    }

    /// The filter's patches: from the index if given (the layer must be in it), else a search over --images.
    func findPatches(network: Network, layer target: LayerRef) throws -> [Patch] {
        if let patchesIndex {
            let index = try PatchesOutput.readIndex(URL(fileURLWithPath: patchesIndex))
            guard index.model == network.name else {
                throw CLIError("\(patchesIndex) was made with \(index.model), not \(network.name); pass --model \(index.model)")
            }
            guard let entry = index.layers[layer] else {
                throw CLIError("\(patchesIndex) has no layer \(layer); it has \(index.layers.keys.sorted().joined(separator: ", "))")
            }
            guard let found = entry.filters.first(where: { $0.filter == filter }), !found.patches.isEmpty else {
                throw CLIError("\(patchesIndex) has no patches for \(layer) filter \(filter) (searched with other --filters?)")
            }
            let folder = URL(fileURLWithPath: index.imagesFolder, isDirectory: true)
            return found.patches.prefix(top).map { $0.patch(folder: folder) }
        }
        guard let images else { throw CLIUsageError("give --images DIR or --patches-index FILE") }
        let folder = URL(fileURLWithPath: images, isDirectory: true)
        let files = try PatchSearch.imageFiles(in: folder)
        if files.isEmpty { throw PatchSearchError.noImages(folder: folder.path) }
        let progress = ProgressReporter(label: "patches")
        let result = try PatchSearch.run(network: network, layers: [target], images: files,
                                         settings: PatchSearchSettings(top: top), filters: [layer: [filter]]) { progress.update($0, of: $1) }
        for skip in result.skipped { log("card: skipped \(skip.path): \(skip.reason)") }
        return result.layers[layer]?[filter] ?? []
    }
}
