import TensorCore
import Models

/// The render loop: pure computation, no I/O (progress goes to a callback, files are the caller's business).
public enum Renderer {
    /// What a step reports to the caller's progress display.
    public struct StepReport {
        public let step: Int
        public let totalSteps: Int
        /// Per-image objective value at this step (under the step's transforms and octave size).
        public let scores: [Float]
    }

    /// Optimises `parametrization` to maximise `objective` through `network`, returning each image's score
    /// curve (one value per step). Random transforms draw from `generators[b]` for image b.
    public static func optimize(network: Network, objective: Objective, parametrization: Parametrization,
                                plan: RenderPlan, generators: inout [SeededGenerator],
                                onStep: (StepReport) -> Void = { _ in }) throws -> [[Float]] {
        var taps: [String: Int] = [:]
        for layer in objective.layers { taps[layer] = try network.layerIndex(layer) }
        let imageSide = GradMode.withoutGrad { parametrization.render().shape[2] }
        try objective.validate(network: network, sides: plan.networkSides(imageSize: imageSide))
        let restriction = lastLayerRestriction(network: network, objective: objective, taps: taps)
        let ascender = Ascender(method: plan.method)
        let batch = parametrization.parameters[0].shape[0]
        var curves = [[Float]](repeating: [], count: batch)
        let total = plan.totalSteps
        var step = 0
        for stage in plan.stages {
            for _ in 0..<stage.steps {
                let rendered = parametrization.render()
                // Transforms act at the image's own resolution (their pixel amounts are relative to the picture);
                // lower octaves then show the network a smaller copy.
                var x = rendered
                for transform in plan.transforms { x = transform(x, &generators) }
                let side = Int((Double(x.shape[2]) * Double(stage.size) / Double(rendered.shape[2])).rounded())
                if side != x.shape[2] {
                    x = resizeBilinear(x, height: side, width: side, antialias: true)
                }
                let options = ForwardOptions(inputIsPreprocessed: parametrization.space == .modelInput,
                                             reluGradient: step < plan.warmupSteps ? .redirected : .exact,
                                             restrictedChannels: restriction?.option)
                let outputs = taps.isEmpty ? [:] : network.forward(x, taps: Set(taps.values), options: options)
                let context = ObjectiveContext(image: x, rendered: rendered,
                                               activations: taps.mapValues { outputs[$0]! },
                                               channelPositions: restriction?.positions ?? [:])
                let scores = objective.score(context)
                precondition(scores.shape == [batch], "objective \(objective.name) gave scores of shape \(scores.shape) for a batch of \(batch)")
                sum(scores).backward()
                ascender.ascend(parametrization.parameters)
                for b in 0..<batch { curves[b].append(scores.storage[b]) }
                step += 1
                onStep(StepReport(step: step, totalSteps: total, scores: scores.storage))
            }
        }
        return curves
    }

    /// When the objective reads only some filters of one layer that sits right after a conv (or is the conv), the
    /// conv computes just those channels: the rest of the last layer is never computed.
    static func lastLayerRestriction(network: Network, objective: Objective, taps: [String: Int])
        -> (option: (conv: Int, channels: [Int]), positions: [String: [Int: Int]])? {
        guard taps.count == 1, let (layer, index) = taps.first, let filters = objective.filtersRead?[layer] else { return nil }
        guard let conv = network.convIndex(feeding: index) else { return nil }
        let channels = Array(Set(filters)).sorted()
        let positions = Dictionary(uniqueKeysWithValues: channels.enumerated().map { ($0.element, $0.offset) })
        return ((conv, channels), [layer: positions])
    }
}
