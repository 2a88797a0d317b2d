/// EfficientNet-Lite0/1/2 (Tan & Le 2019; the Lite variants: ReLU6, no squeeze-and-excitation, fixed stem and
/// head) as a graph, node for node as PyPI `efficientnet-lite-pytorch` 0.1.0 builds it, so its checkpoints'
/// keys (`_blocks.3._depthwise_conv.weight`, `_blocks.3._bn1.running_var`, ...) load as they are.
///
/// Node names are the reference's module paths: `_conv_stem` is the stem conv with its batch norm folded in
/// (pre-activation), `_conv_stem.relu6` after ReLU6; per block `_blocks.B._expand_conv`, `._depthwise_conv`
/// (each with `.relu6`), `._project_conv` and, where the block is residual, `_blocks.B.add`; then `_conv_head`,
/// `_conv_head.relu6`, `_avg_pooling`, `flatten`, `_dropout`, `_fc` (the logits) and `softmax`. Short aliases:
/// `stem`, `blockB` (a block's output), `blockB_expand`, `blockB_depthwise`, `head`, `logits`, `probabilities`.
extension Architecture {
    public static let efficientNetLite0 = efficientNetLite(variant: 0)
    public static let efficientNetLite1 = efficientNetLite(variant: 1)
    public static let efficientNetLite2 = efficientNetLite(variant: 2)

    /// The reference's (width, depth, native input side) per variant (its `efficientnet_params`).
    static let efficientNetLiteParameters: [(width: Double, depth: Double, side: Int)] = [
        (1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 280), (1.4, 1.8, 300),
    ]

    /// The native input side of a variant: TF "SAME" padding is computed for it once, as the reference does.
    public static func efficientNetLiteSide(variant: Int) -> Int { efficientNetLiteParameters[variant].side }

    static func efficientNetLite(variant: Int) -> Architecture {
        let (width, depth, side) = efficientNetLiteParameters[variant]
        // The reference's block strings: repeats, kernel, stride, expansion, input and output filters.
        let stages: [(repeats: Int, kernel: Int, stride: Int, expand: Int, input: Int, output: Int)] = [
            (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
            (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
        ]
        var graph = GraphBuilder()
        var size = side
        let stem = graph.conv("_conv_stem", bn: "_bn0", input: Layer.image, inChannels: 3, outChannels: 32, kernel: 3,
                              stride: 2, size: &size)
        var x = graph.relu6(after: stem, aliases: ["stem"])
        var channels = 32
        var block = 0
        for (stageIndex, stage) in stages.enumerated() {
            // The stem and head stay fixed in Lite, and so do the first and last stages' repeats.
            let fixed = stageIndex == 0 || stageIndex == stages.count - 1
            let repeats = fixed ? stage.repeats : Int((depth * Double(stage.repeats)).rounded(.up))
            let output = roundFilters(stage.output, width: width)
            for r in 0..<repeats {
                let stride = r == 0 ? stage.stride : 1
                let input = x
                let expanded = channels * stage.expand
                let prefix = "_blocks.\(block)"
                var y = input
                if stage.expand != 1 {
                    let conv = graph.conv("\(prefix)._expand_conv", bn: "\(prefix)._bn0", input: y, inChannels: channels,
                                          outChannels: expanded, kernel: 1, stride: 1, size: &size)
                    y = graph.relu6(after: conv, aliases: ["block\(block)_expand"])
                }
                let depthwise = graph.conv("\(prefix)._depthwise_conv", bn: "\(prefix)._bn1", input: y, inChannels: expanded,
                                           outChannels: expanded, kernel: stage.kernel, stride: stride, groups: expanded, size: &size)
                y = graph.relu6(after: depthwise, aliases: ["block\(block)_depthwise"])
                let residual = stride == 1 && channels == output
                y = graph.conv("\(prefix)._project_conv", bn: "\(prefix)._bn2", input: y, inChannels: expanded,
                               outChannels: output, kernel: 1, stride: 1, size: &size, aliases: residual ? [] : ["block\(block)"])
                if residual { y = graph.add("\(prefix).add", [y, input], aliases: ["block\(block)"]) }
                x = y
                channels = output
                block += 1
            }
        }
        let head = graph.conv("_conv_head", bn: "_bn1", input: x, inChannels: channels, outChannels: 1280, kernel: 1,
                              stride: 1, size: &size)
        x = graph.relu6(after: head, aliases: ["head"])
        x = graph.append("_avg_pooling", .adaptiveAvgPool(height: 1, width: 1), [x])
        x = graph.append("flatten", .flatten, [x])
        x = graph.append("_dropout", .dropout, [x])
        x = graph.append("_fc", .linear(inFeatures: 1280, outFeatures: 1000), [x], aliases: ["logits", "fc"])
        _ = graph.append("softmax", .softmax, [x], aliases: ["probabilities"])
        // The builder only makes well-formed graphs (each node reads earlier ones, names unique).
        return try! Architecture(family: "efficientnet-lite\(variant)", graph: graph.layers)
    }

    /// The reference's `round_filters`: scale by the width multiplier, round to a multiple of 8, never more than
    /// 10% down.
    static func roundFilters(_ filters: Int, width: Double) -> Int {
        let scaled = Double(filters) * width
        var rounded = max(8, Int(scaled + 4) / 8 * 8)
        if Double(rounded) < 0.9 * scaled { rounded += 8 }
        return rounded
    }

    /// TensorFlow "SAME" padding for a `kernel`/`stride` conv on a `side` map: output ceil(side / stride), the odd
    /// zero at the bottom/right.
    static func samePadding(side: Int, kernel: Int, stride: Int) -> Padding {
        let out = (side + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - side, 0)
        return Padding(top: total / 2, bottom: total - total / 2, left: total / 2, right: total - total / 2)
    }
}

/// Appends graph nodes in order, returning each one's index.
struct GraphBuilder {
    private(set) var layers: [Layer] = []

    mutating func append(_ path: String, _ kind: LayerKind, _ inputs: [Int], aliases: [String] = []) -> Int {
        layers.append(Layer(path: path, kind: kind, inputs: inputs, aliases: aliases))
        return layers.count - 1
    }

    /// A bias-free conv with its batch norm (epsilon 1e-3, as the reference) and static SAME padding for `size`,
    /// which it updates to the output side (unchanged for stride 1).
    mutating func conv(_ path: String, bn: String, input: Int, inChannels: Int, outChannels: Int, kernel: Int, stride: Int,
                       groups: Int = 1, size: inout Int, aliases: [String] = []) -> Int {
        let padding = Architecture.samePadding(side: size, kernel: kernel, stride: stride)
        size = (size + stride - 1) / stride
        let spec = ConvSpec(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
                            groups: groups, bias: false, batchNorm: BatchNormSpec(path: bn, epsilon: 1e-3))
        return append(path, .conv(spec), [input], aliases: aliases)
    }

    mutating func relu6(after node: Int, aliases: [String] = []) -> Int {
        append("\(layers[node].path).relu6", .clip(min: 0, max: 6), [node], aliases: aliases)
    }

    mutating func add(_ path: String, _ inputs: [Int], aliases: [String] = []) -> Int {
        append(path, .add, inputs, aliases: aliases)
    }
}
