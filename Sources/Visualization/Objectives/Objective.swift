import TensorCore

/// What one optimisation step hands an objective: the image batch the network saw and the tapped activations.
public struct ObjectiveContext {
    /// The (transformed) RGB batch fed to the network, (N, 3, H, W) in [0, 1].
    public let image: Tensor
    /// The untransformed RGB batch from the parametrisation (regularisers act on this).
    public let rendered: Tensor
    let activations: [String: Tensor]
    /// For layers computed for only some output channels: filter index -> position in the activation.
    let channelPositions: [String: [Int: Int]]

    /// The activation of `layer` (requested through the objective's `layers`).
    public func activation(_ layer: String) -> Tensor {
        guard let a = activations[layer] else { preconditionFailure("objective asked for layer \(layer), which was not tapped") }
        return a
    }

    /// Where `filter` of `layer` sits along the channel axis of `activation(layer)`.
    public func position(of filter: Int, in layer: String) -> Int {
        channelPositions[layer]?[filter] ?? filter
    }
}

/// A score to maximise, one value per image of the batch (shape (N,)).
///
/// Objectives compose like lucid's: `a + b`, `a - b`, `2 * a`, `-a`; regularisers are objectives too
/// (penalties, so subtract them: `channel - 0.05 * .totalVariation`). The engine ascends the sum over the batch;
/// each image's score depends only on that image, except for `diversity`, which couples the batch on purpose.
public struct Objective {
    /// A readable formula, recorded in manifests.
    public let name: String
    /// The layers whose activations the objective reads (friendly or torchvision names).
    public let layers: Set<String>
    /// Per layer, the filters the objective reads for each image, when it reads just those (lets the engine compute
    /// only the target filters at the last layer).
    public let filtersRead: [String: [Int]]?
    let evaluate: (ObjectiveContext) -> Tensor

    public init(name: String, layers: Set<String>, filtersRead: [String: [Int]]? = nil,
                evaluate: @escaping (ObjectiveContext) -> Tensor) {
        self.name = name
        self.layers = layers
        self.filtersRead = filtersRead
        self.evaluate = evaluate
    }

    /// Per-image scores for a step.
    public func score(_ context: ObjectiveContext) -> Tensor { evaluate(context) }

    private static func merged(_ a: [String: [Int]]?, _ b: [String: [Int]]?, _ aLayers: Set<String>, _ bLayers: Set<String>) -> [String: [Int]]? {
        // Only a lone channel read survives composition: any other reader of the same layer needs all channels.
        if a != nil && b == nil && aLayers.isDisjoint(with: bLayers) { return a }
        if b != nil && a == nil && aLayers.isDisjoint(with: bLayers) { return b }
        return nil
    }

    public static func + (a: Objective, b: Objective) -> Objective {
        Objective(name: "\(a.name) + \(b.name)", layers: a.layers.union(b.layers),
                  filtersRead: merged(a.filtersRead, b.filtersRead, a.layers, b.layers)) { a.evaluate($0) + b.evaluate($0) }
    }

    public static func - (a: Objective, b: Objective) -> Objective {
        Objective(name: "\(a.name) - \(b.name)", layers: a.layers.union(b.layers),
                  filtersRead: merged(a.filtersRead, b.filtersRead, a.layers, b.layers)) { a.evaluate($0) - b.evaluate($0) }
    }

    public static func * (s: Float, a: Objective) -> Objective {
        Objective(name: "\(s) * (\(a.name))", layers: a.layers, filtersRead: a.filtersRead) { a.evaluate($0) * s }
    }

    public static func * (a: Objective, s: Float) -> Objective { s * a }

    public static prefix func - (a: Objective) -> Objective {
        Objective(name: "-(\(a.name))", layers: a.layers, filtersRead: a.filtersRead) { a.evaluate($0) * -1 }
    }
}
