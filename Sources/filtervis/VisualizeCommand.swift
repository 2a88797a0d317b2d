import ArgumentParser
import Experiments
import FileOutput
import Foundation
import Models
import TensorCore
import Visualization

/// `filtervis visualize`: filter preference images for one layer, a labelled grid and a manifest.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Find the image each filter of a layer responds to most (activation maximisation).",
        discussion: """
        Gradient ascent on the input image through the pretrained network, one
        image per filter, many filters per batch. Writes into --out:
          filter_NNNN.png  one image per filter
          grid.png         labelled by filter index (--sort score: by score)
          manifest.json    model, weights sha256, preprocessing, every setting,
                           seed, threads, version, wall time; per filter its
                           final score, score curve, dead/alive flag and its
                           ratio to the best real photo (--photos)

        Presets:
          default    lucid's Fourier image, decorrelated colour and transforms,
                     Adam 0.05, 96 steps: 58 with the network seeing the image
                     at half size, then 38 at full size, and a 16-step
                     redirected-ReLU warm-up so no filter stays dead
          keras2016  the lecture's figures (Keras blog, 2016): 20 normalised
                     ascent steps in raw input space from grey noise; the quick
                     preview, about 1 s per filter
          lucid      lucid's published defaults: 512 full-size Adam steps

        The same --seed gives byte-identical images on any thread count, and a
        filter's image does not depend on the other filters in the run.

        Examples:
          filtervis visualize --layer conv3_1 --out Outputs/vgg16/conv3_1
          filtervis visualize --model efficientnet-lite0 --objective class:goldfish,tabby --out /tmp/classes
          filtervis visualize --model alexnet --layer conv5 --filters 0-15 \\
              --preset keras2016 --out /tmp/alexnet-conv5
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Layer whose filters to show: conv3_1, block3_conv1, features.10, conv5 (AlexNet), block5 (EfficientNet-Lite), ... (`filtervis layers --model M` lists them; with --objective class: logits).")
    var layer: String?

    @Option(help: ArgumentHelp("What to maximise: filter (each selected filter of --layer), or class:NAME[,NAME...] (class logits of a classifier by ImageNet name or index, e.g. class:goldfish,tabby cat or class:1; replaces --filters).", valueName: "objective"))
    var objective = "filter"

    @Option(help: "Filters: a range (0-63), a list (3,7,9), both (0-7,32), or all.")
    var filters = "0-63"

    @Option(help: "Recipe: \(Preset.all.map(\.name).joined(separator: ", ")).")
    var preset = "default"

    @Option(parsing: .unconditional, help: "Image size in pixels (default: the preset's, 128); the smallest that works depends on the layer and preset.")
    var size: Int?

    @Option(parsing: .unconditional, help: "Optimisation steps (default: the preset's).")
    var steps: Int?

    @Option(parsing: .unconditional, help: "Learning rate (Adam/SGD) or step size (normalised gradient), a positive finite number (default: the preset's).")
    var lr: Float?

    @Option(parsing: .unconditional, help: "Random seed (0 or more): the same seed gives the same images.")
    var seed: UInt64 = 0

    @OptionGroup var threading: ThreadsOption

    @Option(parsing: .unconditional, help: "Filters optimised together in one batch.")
    var batch = 16

    @Option(help: "Grid order: index or score (highest first).")
    var sort: GridOrder = .index

    @Option(help: "Photos to score each filter against (default: the photo cache, when present).")
    var photos: String?

    @Flag(help: "Skip scoring the real photos (the manifest then has no photo ratios).")
    var noPhotoBaseline = false

    @OptionGroup var output: OutputFolderOption

    enum GridOrder: String, ExpressibleByArgument, CaseIterable { case index, score }

    func validate() throws {
        // Sizes are checked against the layer and the memory budget once the model is known (VisualizationJob).
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let steps, steps > 1_000_000 { throw ValidationError("--steps \(steps) is more than 1,000,000; use fewer") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive finite number, got \(lr)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if objective != "filter" && !objective.hasPrefix("class:") {
            throw ValidationError("--objective must be filter or class:NAME[,NAME...], got '\(objective)'")
        }
        if objective == "filter" && layer == nil { throw ValidationError("give --layer (or --objective class:NAME)") }
        if let photos, !noPhotoBaseline {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: photos, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--photos \(photos): no such folder; give a folder of JPEG/PNG photos or --no-photo-baseline")
            }
        }
        // A wrong name is a usage error (exit 2), with the list of what exists.
        do { _ = try Preset.named(preset) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try runReportingErrors(threads: threading.threads) {
            let started = Date()
            var chosen = try Preset.named(preset)
            if let size { chosen.size = size }
            if let steps { chosen.steps = steps }
            if let lr { chosen.method = chosen.method.withRate(lr) }

            let outDir = output.url
            let network = try modelOptions.loadNetwork()
            let layer = self.layer ?? "logits"
            let target = try network.layer(layer)
            let selected = try selection(channels: target.channels, layer: layer)
            let job = try VisualizationJob(network: network, layer: target, filters: selected, preset: chosen,
                                           seed: seed, batchSize: batch)
            try OutputFolder.prepare(outDir, for: VisualizationOutput.layout)

            log("visualize: \(network.name) \(layer), \(selected.count) filter(s), preset \(chosen.name) "
                + "(\(chosen.size) px, \(chosen.steps) steps), seed \(seed), \(Parallel.threads) thread(s) -> \(output.out)")
            let progress = ProgressReporter(label: "\(layer)")
            let results = try job.run { done, total in progress.update(done, of: total) }
            try FilterResult.requireFiniteScores(results, layer: layer)
            let seconds = Date().timeIntervalSince(started)
            let baseline = try photoBaseline(job: job)
            if let baseline, let m = median(baseline.ratios(results.map(\.score))) {
                log(String(format: "visualize: median score / best of %d photos = %.2f", baseline.photoCount, m))
            }

            try VisualizationOutput.write(results: results, job: job, baseline: baseline,
                                          order: sort == .score ? .score : .index, wallSeconds: seconds, to: outDir)
            let dead = results.filter(\.isDead).map(\.filter)
            log(String(format: "visualize: wrote %d images, grid.png and manifest.json in %.1f s", results.count, seconds))
            if !dead.isEmpty {
                log("visualize: \(dead.count) dead filter(s) (score <= 0): \(dead.map(String.init).joined(separator: ", "))")
            }
        }
    }
}

extension VisualizeCommand {
    /// The units to maximise: --filters, or the classes of --objective class:NAMES (by ImageNet name or index).
    func selection(channels: Int, layer: String) throws -> [Int] {
        guard objective.hasPrefix("class:") else { return try FilterSelection.parse(filters, channels: channels, layer: layer) }
        let names = objective.dropFirst("class:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw CLIError("--objective \(objective): give class names or indices after class:, separated by commas")
        }
        let labels = try ImageNetLabels.load()
        let classes = try names.map { try labels.resolve($0) }
        if let beyond = classes.first(where: { $0 >= channels }) {
            throw CLIError("class \(beyond) is beyond \(layer)'s \(channels) outputs; class objectives need a classifier's logits")
        }
        return Array(Set(classes)).sorted()
    }

    /// The filters' best scores over real photos at the optimisation size, or nil when there are no photos.
    func photoBaseline(job: VisualizationJob) throws -> PhotoBaseline? {
        guard !noPhotoBaseline else { return nil }
        let folder = photos.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? ModelCatalog.cacheDirectory.appendingPathComponent("photos", isDirectory: true)
        guard FileManager.default.fileExists(atPath: folder.path) else {
            if photos != nil { throw CLIError("\(folder.path): no such photo folder (--photos)") }
            return nil
        }
        let files = try PatchSearch.imageFiles(in: folder)
        guard !files.isEmpty else { return nil }
        return try PhotoBaseline.measure(network: job.network, scoreLayer: job.taps.score, filters: job.filters,
                                         photos: files, size: job.preset.size)
    }
}


/// A progress or summary line on stderr (stdout stays for data).
func log(_ message: String) { printError(message) }
