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
    /// Checks of the objective's own values (a neuron's position, a class index) against the shape of the
    /// activation it reads, (N, C, H, W) or (N, features): run by `validate` before any step.
    let requirements: [ObjectiveRequirement]

    public init(name: String, layers: Set<String>, filtersRead: [String: [Int]]? = nil,
                requirements: [ObjectiveRequirement] = [], evaluate: @escaping (ObjectiveContext) -> Tensor) {
        self.name = name
        self.layers = layers
        self.filtersRead = filtersRead
        self.requirements = requirements
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
                  filtersRead: merged(a.filtersRead, b.filtersRead, a.layers, b.layers),
                  requirements: a.requirements + b.requirements) { a.evaluate($0) + b.evaluate($0) }
    }

    public static func - (a: Objective, b: Objective) -> Objective {
        Objective(name: "\(a.name) - \(b.name)", layers: a.layers.union(b.layers),
                  filtersRead: merged(a.filtersRead, b.filtersRead, a.layers, b.layers),
                  requirements: a.requirements + b.requirements) { a.evaluate($0) - b.evaluate($0) }
    }

    public static func * (s: Float, a: Objective) -> Objective {
        Objective(name: "\(s) * (\(a.name))", layers: a.layers, filtersRead: a.filtersRead, requirements: a.requirements) { a.evaluate($0) * s }
    }

    public static func * (a: Objective, s: Float) -> Objective { s * a }

    public static prefix func - (a: Objective) -> Objective {
        Objective(name: "-(\(a.name))", layers: a.layers, filtersRead: a.filtersRead, requirements: a.requirements) { a.evaluate($0) * -1 }
    }
}

/// One check of an objective's values against the shape of a layer's activation (see `Objective.validate`).
public struct ObjectiveRequirement {
    public let layer: String
    public let check: (_ shape: [Int]) throws -> Void
    public init(layer: String, check: @escaping (_ shape: [Int]) throws -> Void) { self.layer = layer; self.check = check }
}

/// An objective asked for something its layer does not have; each message names the value and the valid range.
public enum ObjectiveError: Error, Equatable, CustomStringConvertible {
    case notTapped(objective: String, layer: String)
    case channelOutOfRange(objective: String, layer: String, channel: Int, channels: Int)
    case positionOutside(objective: String, layer: String, row: Int, column: Int, height: Int, width: Int)
    case classOutOfRange(index: Int, classes: Int)
    case borderTooWide(objective: String, layer: String, border: Int, height: Int, width: Int)
    case notSpatial(objective: String, layer: String)

    public var description: String {
        switch self {
        case let .notTapped(objective, layer): return "objective \(objective) reads \(layer), which it does not list among its layers"
        case let .channelOutOfRange(objective, layer, channel, channels):
            return "objective \(objective): filter \(channel) is out of range; \(layer) has \(channels) filters, 0-\(channels - 1)"
        case let .positionOutside(objective, layer, row, column, height, width):
            return "objective \(objective): position (row \(row), column \(column)) is outside the \(height) x \(width) map of "
                + "\(layer) at this size; use rows 0-\(height - 1) and columns 0-\(width - 1), or a larger size"
        case let .classOutOfRange(index, classes):
            return "class \(index) is out of range; the logits have \(classes) classes, 0-\(classes - 1)"
        case let .borderTooWide(objective, layer, border, height, width):
            return "objective \(objective): a border of \(border) leaves nothing of the \(height) x \(width) map of \(layer); "
                + "use a border below \((min(height, width) + 1) / 2) or a larger size"
        case let .notSpatial(objective, layer):
            return "objective \(objective) needs a spatial map, but \(layer) is a vector; pick a conv, ReLU or pool layer"
        }
    }
}
