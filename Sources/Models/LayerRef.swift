/// A node of a network's graph: one module's output, by its place in execution order.
///
/// Today's networks are chains, so a node is a module index; a graph model numbers its nodes the same way
/// (topological order), and branches, residual adds or ONNX node names are nodes like any other.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.index < b.index }
    public var description: String { "node \(index)" }
}

/// A layer as its model resolved it, once, from any of its names: which node it taps and everything a command or
/// the engine asks of it. Made only by `Network.layer(_:)` / `Architecture.layer(at:named:)`, so holding one
/// means the name was valid for that model.
public struct LayerRef: Hashable, Sendable, CustomStringConvertible {
    /// The architecture the node belongs to (its family, e.g. "vgg16"): a reference is only valid there.
    public let architecture: String
    /// The node whose output the name taps.
    public let node: NodeID
    /// The name as it was asked for (what messages and manifests show).
    public let name: String
    /// The canonical name: the torchvision module path, e.g. "features.10".
    public let path: String
    /// Every name of the node, the preferred one first.
    public let aliases: [String]
    /// Channels of the output (filters for a conv, features for a linear layer).
    public let channels: Int
    /// The conv whose filters this layer shows: the conv itself, or the conv right before this activation;
    /// nil for pools and linear layers.
    public let filterConv: NodeID?
    /// The node a filter's score reads: the activation after `filterConv` (post-ReLU), else this node itself.
    public let scoreNode: NodeID
    /// Whether the output is a map whose size follows the input's (convs, activations and pools before the
    /// classifier's fixed-size average pool); receptive fields and patches exist only for these.
    public let followsInputSize: Bool

    public var description: String { name }
    /// The preferred name of the node.
    public var preferredName: String { aliases.first ?? path }
}

extension Architecture {
    /// The layer at `node`, as asked for by `name` (the preferred name when nil).
    public func layer(at node: NodeID, named name: String? = nil) -> LayerRef {
        let i = node.index
        let filterConv = filterConv(of: i)
        var score = i
        if let conv = filterConv, consumers[conv].count == 1, let reader = consumers[conv].first, layers[reader].kind.isActivation {
            score = reader
        }
        let aliases = names.names(of: i)
        return LayerRef(architecture: family, node: node, name: name ?? aliases.first ?? layers[i].path, path: layers[i].path, aliases: aliases,
                        channels: channels(at: i), filterConv: filterConv.map(NodeID.init), scoreNode: NodeID(score),
                        followsInputSize: followsInputSize[i])
    }

    /// The conv whose filters node `i` shows: itself, or the conv an activation reads.
    private func filterConv(of i: Int) -> Int? {
        switch layers[i].kind {
        case .conv: return i
        case let kind where kind.isActivation:
            guard let input = layers[i].inputs.first, input >= 0, case .conv = layers[input].kind else { return nil }
            return input
        default: return nil
        }
    }

    /// The layer a name (friendly, Keras, torchvision path or alias) taps, or nil.
    public func layer(named name: String) -> LayerRef? {
        names.indexByName[name].map { layer(at: NodeID($0), named: name) }
    }

    /// The number of channels of node `index`'s output (features, for vectors).
    func channels(at index: Int) -> Int { channelCounts[index] }

    /// Every node's output channels, propagated through the graph (a flatten multiplies by its fixed map size).
    static func channelCounts(_ layers: [Layer]) -> [Int] {
        var counts: [Int] = []
        var fixedMap = [(Int, Int)?]()
        for layer in layers {
            let inputs = layer.inputs.map { $0 == Layer.image ? 3 : counts[$0] }
            let inputMap = layer.inputs.first.flatMap { $0 == Layer.image ? nil : fixedMap[$0] }
            var map = inputMap
            let count: Int
            switch layer.kind {
            case let .conv(c): count = c.outChannels
            case let .linear(_, out): count = out
            case .concat: count = inputs.reduce(0, +)
            case .add, .mul: count = inputs.max() ?? 0
            case let .adaptiveAvgPool(h, w): count = inputs[0]; map = (h, w)
            case .flatten: count = inputs[0] * (inputMap.map { $0.0 * $0.1 } ?? 1); map = nil
            default: count = inputs[0]
            }
            counts.append(count)
            fixedMap.append(map)
        }
        return counts
    }

    /// Per node: whether its output is a map whose size follows the input's (nothing after an adaptive pool,
    /// flatten or linear layer on every path to it).
    /// A gate (mul) or sum with a global branch still follows through its map input.
    static func followsInputSize(_ layers: [Layer]) -> [Bool] {
        var follows: [Bool] = []
        for layer in layers {
            let spatial = layer.inputs.map { $0 == Layer.image || follows[$0] }
            let merges = [LayerKind.add, .mul, .concat].contains(layer.kind)
            follows.append(!layer.kind.endsSpatialMaps && (merges ? spatial.contains(true) : !spatial.contains(false)))
        }
        return follows
    }
}
