/// One row per node of an architecture, as `filtervis layers` prints it: what a user needs to pick a layer
/// (its names, what it computes, its output at a given input size, its receptive field).
public struct LayerTableRow: Equatable, Sendable {
    public let layer: LayerRef
    /// What the node computes, e.g. "conv 3x3/1 pad 1", "relu", "maxpool 2x2/2", "linear 4096".
    public let op: String
    /// The output's shape for one square input of the table's side: [C, H, W] for maps, [features] for vectors;
    /// nil when the input is too small to reach the node.
    public let shape: [Int]?
    /// Receptive field side and stride (jump) in input pixels; nil past the classifier's fixed-size pool.
    public let receptiveField: (size: Int, jump: Int)?
    /// The preferred names of the nodes it reads ("image" for the network input).
    public let inputs: [String]

    public static func == (a: LayerTableRow, b: LayerTableRow) -> Bool {
        a.layer == b.layer && a.op == b.op && a.shape == b.shape && a.inputs == b.inputs
            && a.receptiveField?.size == b.receptiveField?.size && a.receptiveField?.jump == b.receptiveField?.jump
    }
}

extension Architecture {
    /// Every node in execution order, for a `side` x `side` input.
    public func table(side: Int) -> [LayerTableRow] {
        layers.indices.map { i in
            let layer = layer(at: NodeID(i))
            // Past the adaptive pool the shape no longer depends on the input, once the input reaches it.
            let reached = outputSize(through: i, height: side, width: side)
            let shape = reached.map { layer.followsInputSize ? [layer.channels, $0.height, $0.width] : fixedShape(i) }
            let field = layer.followsInputSize ? ReceptiveField(layers: layers, through: i) : nil
            let inputs = layers[i].inputs.map { $0 == Layer.image ? "image" : self.layer(at: NodeID($0)).preferredName }
            return LayerTableRow(layer: layer, op: Self.describe(layers[i].kind), shape: shape,
                                 receptiveField: field.map { ($0.size, $0.jump) }, inputs: inputs)
        }
    }

    /// The shape of a node past the input-sized part: the adaptive pool's fixed map, or a vector.
    private func fixedShape(_ index: Int) -> [Int] {
        if case let .adaptiveAvgPool(h, w) = layers[index].kind { return [channels(at: index), h, w] }
        return [channels(at: index)]
    }

    static func describe(_ kind: LayerKind) -> String {
        switch kind {
        case let .conv(c):
            let name = c.groups == 1 ? "conv" : c.groups == c.inChannels && c.groups == c.outChannels ? "depthwise conv" : "conv groups \(c.groups)"
            return "\(name) \(c.kernel)x\(c.kernel)/\(c.stride) pad \(c.padding)" + (c.dilation > 1 ? " dilation \(c.dilation)" : "")
                + (c.batchNorm != nil ? " +bn" : "") + " -> \(c.outChannels)"
        case .relu: return "relu"
        case let .clip(lo, hi): return lo == 0 && hi == 6 ? "relu6" : "clip \(lo)...\(hi)"
        case .sigmoid: return "sigmoid"
        case .silu: return "silu"
        case let .maxPool(k, s, p, ceil): return "maxpool \(k)x\(k)/\(s)" + (p > 0 ? " pad \(p)" : "") + (ceil ? " ceil" : "")
        case let .avgPool(k, s, p, ceil, _): return "avgpool \(k)x\(k)/\(s)" + (p > 0 ? " pad \(p)" : "") + (ceil ? " ceil" : "")
        case let .adaptiveAvgPool(h, w): return h == 1 && w == 1 ? "global avgpool" : "adaptive avgpool \(h)x\(w)"
        case .add: return "add"
        case .mul: return "mul"
        case .concat: return "concat"
        case .flatten: return "flatten"
        case .dropout: return "dropout (identity)"
        case let .linear(_, out): return "linear -> \(out)"
        case .softmax: return "softmax"
        }
    }
}
