import Models
import TensorCore

/// What one optimisation step hands an objective: the image batch the network saw and the tapped activations.
///
/// Filters are always named by their index in the layer: when the renderer computed only some channels of a layer
/// (the target filters of the last conv), this context maps each filter to where it sits.
public struct ObjectiveContext {
    /// The (transformed) RGB batch fed to the network, (N, 3, H, W) in [0, 1].
    public let image: Tensor
    /// The untransformed RGB batch from the parametrisation (regularisers act on this).
    public let rendered: Tensor
    let outputs: [NodeID: LayerOutput]

    /// A tapped node's output, and which channels it holds when not all were computed.
    struct LayerOutput {
        let tensor: Tensor
        /// The channels computed, in the order of the tensor's channel axis; nil when all are there.
        let channels: [Int]?
    }

    init(image: Tensor, rendered: Tensor, outputs: [NodeID: LayerOutput]) {
        self.image = image
        self.rendered = rendered
        self.outputs = outputs
    }

    private func output(_ layer: LayerRef) -> LayerOutput {
        guard let output = outputs[layer.node] else {
            preconditionFailure("objective asked for layer \(layer), which is not among its reads")
        }
        return output
    }

    /// The whole activation of `layer`, channel c at index c. Channels the objective did not declare as read are
    /// zero when the renderer left them uncomputed.
    public func activation(_ layer: LayerRef) -> Tensor {
        let out = output(layer)
        guard let computed = out.channels else { return out.tensor }
        return scatterChannels(out.tensor, channels: computed, count: layer.channels)
    }

    /// The (N, H, W) planes of filter `filters[b]` of `layer` for image b.
    public func planes(_ layer: LayerRef, filters: [Int]) -> Tensor {
        let out = output(layer)
        guard let computed = out.channels else { return channelPlanes(out.tensor, channels: filters) }
        let position = Dictionary(uniqueKeysWithValues: computed.enumerated().map { ($0.element, $0.offset) })
        return channelPlanes(out.tensor, channels: filters.map { position[$0]! })
    }
}

/// What an objective reads of one layer: all of its channels, or only some (then the renderer may compute just
/// those at the last layer, the activation-maximisation speed-up).
public struct LayerRead {
    public let layer: LayerRef
    /// The channels read; nil: all of them.
    public let channels: Set<Int>?

    public init(_ layer: LayerRef, channels: Set<Int>? = nil) {
        self.layer = layer
        self.channels = channels
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
    /// The layers the objective reads, and which of their channels.
    public let reads: [LayerRead]
    let evaluate: (ObjectiveContext) -> Tensor
    /// Checks of the objective's own values (a neuron's position, a class index) against the shape of the
    /// activation it reads, (N, C, H, W) or (N, features): run by `validate` before any step.
    let requirements: [ObjectiveRequirement]

    public init(name: String, reads: [LayerRead], requirements: [ObjectiveRequirement] = [],
                evaluate: @escaping (ObjectiveContext) -> Tensor) {
        self.name = name
        self.reads = reads
        self.requirements = requirements
        self.evaluate = evaluate
    }

    /// Per-image scores for a step.
    public func score(_ context: ObjectiveContext) -> Tensor { evaluate(context) }

    /// Per node, the layer and the channels read by all reads together (nil: all).
    public var channelsRead: [NodeID: (layer: LayerRef, channels: Set<Int>?)] {
        var merged: [NodeID: (layer: LayerRef, channels: Set<Int>?)] = [:]
        for read in reads {
            if let seen = merged[read.layer.node] {
                let channels = seen.channels.flatMap { a in read.channels.map { a.union($0) } }
                merged[read.layer.node] = (seen.layer, channels)
            } else {
                merged[read.layer.node] = (read.layer, read.channels)
            }
        }
        return merged
    }

    public static func + (a: Objective, b: Objective) -> Objective {
        Objective(name: "\(a.name) + \(b.name)", reads: a.reads + b.reads,
                  requirements: a.requirements + b.requirements) { a.evaluate($0) + b.evaluate($0) }
    }

    public static func - (a: Objective, b: Objective) -> Objective {
        Objective(name: "\(a.name) - \(b.name)", reads: a.reads + b.reads,
                  requirements: a.requirements + b.requirements) { a.evaluate($0) - b.evaluate($0) }
    }

    public static func * (s: Float, a: Objective) -> Objective {
        Objective(name: "\(s) * (\(a.name))", reads: a.reads, requirements: a.requirements) { a.evaluate($0) * s }
    }

    public static func * (a: Objective, s: Float) -> Objective { s * a }

    public static prefix func - (a: Objective) -> Objective {
        Objective(name: "-(\(a.name))", reads: a.reads, requirements: a.requirements) { a.evaluate($0) * -1 }
    }
}

/// One check of an objective's values against the shape of a layer's activation (see `Objective.validate`).
public struct ObjectiveRequirement {
    public let layer: LayerRef
    public let check: (_ shape: [Int]) throws -> Void
    public init(layer: LayerRef, check: @escaping (_ shape: [Int]) throws -> Void) { self.layer = layer; self.check = check }
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
