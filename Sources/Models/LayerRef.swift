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
        let filterConv: Int?
        switch layers[i].kind {
        case .conv: filterConv = i
        case .relu where i > 0: if case .conv = layers[i - 1].kind { filterConv = i - 1 } else { filterConv = nil }
        default: filterConv = nil
        }
        var score = i
        if let conv = filterConv, conv + 1 < layers.count, layers[conv + 1].kind == .relu { score = conv + 1 }
        let aliases = names.names(of: i)
        return LayerRef(node: node, name: name ?? aliases.first ?? layers[i].path, path: layers[i].path, aliases: aliases,
                        channels: channels(at: i), filterConv: filterConv.map(NodeID.init), scoreNode: NodeID(score),
                        followsInputSize: i < inputSizedEnd)
    }

    /// The layer a name (friendly, Keras or torchvision) taps, or nil.
    public func layer(named name: String) -> LayerRef? {
        names.indexByName[name].map { layer(at: NodeID($0), named: name) }
    }

    /// The number of channels of module `index`'s output.
    func channels(at index: Int) -> Int {
        var channels = 3
        for layer in layers.prefix(index + 1) {
            switch layer.kind {
            case let .conv(_, out, _, _, _, _): channels = out
            case let .linear(_, out): channels = out
            case .flatten: channels = layers.lazy.compactMap { if case let .linear(fin, _) = $0.kind { fin } else { nil } }.first ?? 0
            default: break
            }
        }
        return channels
    }

    /// The first module whose output size no longer follows the input's.
    var inputSizedEnd: Int {
        layers.firstIndex { layer in
            switch layer.kind {
            case .adaptiveAvgPool, .flatten, .linear: return true
            default: return false
            }
        } ?? layers.count
    }
}
