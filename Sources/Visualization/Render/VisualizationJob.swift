import TensorCore
import Models

/// One filter's outcome: its preference image, final score and how the score climbed.
public struct FilterResult {
    public let filter: Int
    /// The displayable image (3, H, W), RGB in [0, 1].
    public let rgb: Tensor
    /// The filter's post-ReLU spatial mean on the final image at the optimisation size, without transforms.
    public let score: Float
    /// The objective per step (under that step's transforms and octave).
    public let curve: [Float]
    /// A dead filter never responded: its final score is at or below zero.
    public var isDead: Bool { !(score > 0) }
}

/// Filter preference images for a layer: the filters split into batches, one image per filter.
public struct VisualizationJob {
    public let network: Network
    /// The layer as the user named it (a conv's name selects that conv's filters).
    public let layer: LayerRef
    public let filters: [Int]
    public var preset: Preset
    public var seed: UInt64
    public var batchSize: Int

    /// Checks the layer, filters and settings before any work starts: the size must reach the layer in every
    /// octave and fit the memory budget (`sizeSetting` names the size in messages: "--size", "overrides.size").
    public init(network: Network, layer: LayerRef, filters: [Int], preset: Preset, seed: UInt64, batchSize: Int = 16,
                sizeSetting: String = "--size") throws {
        let channels = layer.channels
        if let bad = filters.first(where: { $0 < 0 || $0 >= channels }) {
            throw ModelError.filterOutOfRange(String(bad), layer: layer.name, channels: channels)
        }
        guard !filters.isEmpty else { throw VisualizationError.badSetting("no filters selected for \(layer)") }
        guard preset.steps >= 1 else { throw VisualizationError.badSetting("--steps must be at least 1") }
        guard batchSize >= 1 else { throw VisualizationError.badSetting("--batch must be at least 1") }
        let rate = preset.method.rate
        guard rate.isFinite, rate > 0 else {
            throw VisualizationError.badSetting("the learning rate \(rate) must be a positive finite number (--lr, overrides.lr)")
        }
        try network.checkInputSize(Self.sizeSetting(preset: preset, name: sizeSetting, batch: min(batchSize, filters.count)),
                                   layer: layer)
        self.network = network
        self.layer = layer
        self.filters = filters
        self.preset = preset
        self.seed = seed
        self.batchSize = batchSize
    }

    /// The preset's size as a checkable setting: the network sees each octave's side after the transforms, and
    /// the image itself untransformed (final scores, photo baselines); memory counts the largest of those, for a
    /// batch of optimisation steps.
    public static func sizeSetting(preset: Preset, name: String, batch: Int) -> SizeSetting {
        func sides(_ size: Int) -> [Int] { var p = preset; p.size = size; return p.plan.networkSides(imageSize: size) + [size] }
        return SizeSetting(name: name, value: preset.size, range: 16...Architecture.largestSide,
                           seenSides: sides, memorySide: { sides($0).max() ?? $0 }, batch: batch, training: true)
    }

    /// The layer the objective reads (the conv before or after its ReLU, as the preset says), and the one the
    /// score reads (after the ReLU); pools and linear layers are read as they are.
    public var taps: (objective: LayerRef, score: LayerRef) {
        Self.taps(of: layer, tap: preset.tap, in: network)
    }

    public static func taps(of layer: LayerRef, tap: Preset.Tap, in network: Network) -> (objective: LayerRef, score: LayerRef) {
        guard let conv = layer.filterConv else { return (layer, layer) }
        let post = network.layer(at: layer.scoreNode)
        return (tap == .preReLU ? network.layer(at: conv) : post, post)
    }

    /// Each filter's own random stream: a function of the seed and the filter only, so a filter's image does not
    /// depend on the batch it shares or the thread count.
    public static func generator(seed: UInt64, filter: Int) -> SeededGenerator {
        var mixer = SeededGenerator(seed: seed ^ (UInt64(filter) &* 0xD1B5_4A32_D192_ED03))
        return SeededGenerator(seed: mixer.next())
    }

    /// Runs every batch; `onStep(stepsDone, stepsTotal)` reports progress across the whole job.
    public func run(onStep: (Int, Int) -> Void = { _, _ in }) throws -> [FilterResult] {
        let plan = preset.plan
        let stepsTotal = plan.totalSteps * ((filters.count + batchSize - 1) / batchSize)
        var done = 0
        var results: [FilterResult] = []
        for start in stride(from: 0, to: filters.count, by: batchSize) {
            let batch = Array(filters[start..<min(start + batchSize, filters.count)])
            var generators = batch.map { VisualizationJob.generator(seed: seed, filter: $0) }
            let parametrization = makeParametrization(batch: batch.count, generators: &generators)
            let (objectiveLayer, scoreLayer) = taps
            let objective = Objective.channel(objectiveLayer, filters: batch)
            let curves = try Renderer.optimize(network: network, objective: objective, parametrization: parametrization,
                                               plan: plan, generators: &generators) { report in
                onStep(done + report.step, stepsTotal)
            }
            done += plan.totalSteps
            let scores = try finalScores(parametrization: parametrization, scoreLayer: scoreLayer, filters: batch)
            let display = parametrization.displayRGB(preprocessing: network.preprocessing)
            let per = display.count / batch.count
            for (b, filter) in batch.enumerated() {
                let rgb = Tensor(shape: Array(display.shape.dropFirst()), storage: Array(display.storage[(b * per)..<((b + 1) * per)]))
                results.append(FilterResult(filter: filter, rgb: rgb, score: scores[b], curve: curves[b]))
            }
        }
        return results
    }

    func makeParametrization(batch: Int, generators: inout [SeededGenerator]) -> Parametrization {
        switch preset.parametrization {
        case .fourier:
            return FourierParametrization(batch: batch, size: preset.size, decorrelate: preset.decorrelate, generators: &generators)
        case .pixel:
            return PixelParametrization(batch: batch, size: preset.size, decorrelate: preset.decorrelate, generators: &generators)
        case .rawInput:
            return RawInputParametrization(batch: batch, size: preset.size, preprocessing: network.preprocessing, generators: &generators)
        }
    }

    /// The post-ReLU spatial mean of each filter on its final image, at the optimisation size, no transforms.
    func finalScores(parametrization: Parametrization, scoreLayer: LayerRef, filters: [Int]) throws -> [Float] {
        GradMode.withoutGrad {
            let image = parametrization.render()
            let options = ForwardOptions(inputIsPreprocessed: parametrization.space == .modelInput)
            let act = network.forward(image, to: scoreLayer, options: options)
            return mean(channelPlanes(act, channels: filters), axes: [1, 2]).storage
        }
    }
}
