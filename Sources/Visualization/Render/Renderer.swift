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
        let reads = objective.channelsRead
        let imageSide = GradMode.withoutGrad { parametrization.render().shape[2] }
        try objective.validate(network: network, sides: plan.networkSides(imageSize: imageSide))
        let restriction = lastLayerRestriction(reads).flatMap { network.canRestrictChannels(of: $0.conv) ? $0 : nil }
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
                                             restrictedChannels: restriction.map { ($0.conv, $0.channels) })
                let outputs = reads.isEmpty ? [:] : network.forward(x, taps: Set(reads.keys), options: options)
                let context = ObjectiveContext(image: x, rendered: rendered, outputs: outputs.mapValues { tensor in
                    .init(tensor: tensor, channels: restriction.map(\.channels))
                })
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

    /// When the objective reads only some filters of one layer that is a conv or its activation, the conv
    /// computes just those channels: the rest of the last layer is never computed. The objective still names
    /// filters by their index; `ObjectiveContext` maps them to the computed channels.
    static func lastLayerRestriction(_ reads: [NodeID: (layer: LayerRef, channels: Set<Int>?)])
        -> (conv: NodeID, channels: [Int])? {
        guard reads.count == 1, let read = reads.values.first, let channels = read.channels,
              let conv = read.layer.filterConv else { return nil }
        return (conv, channels.sorted())
    }
}
