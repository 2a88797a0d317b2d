/// A convolution as data: its channels, window, grouping, and the batch norm folded into it at load.
public struct ConvSpec: Equatable, Sendable {
    public var inChannels: Int, outChannels: Int, kernel: Int, stride: Int
    public var padding: Padding
    public var dilation: Int
    /// `inChannels` splits into this many groups; `groups == inChannels == outChannels` is a depthwise conv.
    public var groups: Int
    /// Whether the checkpoint has a `.bias` for it (convs followed by batch norm usually have none).
    public var bias: Bool
    /// The batch norm right after this conv, folded into its weight and bias when the weights load (inference
    /// statistics), so the conv's output is the batch norm's.
    public var batchNorm: BatchNormSpec?

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Padding = .zero,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, batchNorm: BatchNormSpec? = nil) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel; self.stride = stride
        self.padding = padding; self.dilation = dilation; self.groups = groups; self.bias = bias; self.batchNorm = batchNorm
    }

    /// The weight's shape, OIHW: (out, in / groups, k, k).
    public var weightShape: [Int] { [outChannels, inChannels / max(groups, 1), kernel, kernel] }
}

/// Zeros added on each side of a map; TensorFlow's "SAME" padding of a strided conv is uneven (the odd one at
/// the bottom/right).
public struct Padding: Equatable, Sendable, CustomStringConvertible {
    public var top: Int, bottom: Int, left: Int, right: Int
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top; self.bottom = bottom; self.left = left; self.right = right
    }
    public static func symmetric(_ p: Int) -> Padding { Padding(top: p, bottom: p, left: p, right: p) }
    public static let zero = Padding.symmetric(0)
    public var isSymmetric: Bool { top == bottom && left == right && top == left }
    public var description: String { isSymmetric ? "\(top)" : "(\(top),\(bottom),\(left),\(right))" }
}

/// A batch norm's module path (its checkpoint keys: `.weight`, `.bias`, `.running_mean`, `.running_var`) and epsilon.
public struct BatchNormSpec: Equatable, Sendable {
    public var path: String
    public var epsilon: Float
    public init(path: String, epsilon: Float) { self.path = path; self.epsilon = epsilon }
}

/// What one node of a network computes.
///
/// Chains (VGG16, AlexNet) follow torchvision's `nn.Sequential` numbering, so checkpoint keys (`features.10.weight`)
/// load without a hand-written map; graph models name their nodes by module path the same way.
public enum LayerKind: Equatable, Sendable {
    case conv(ConvSpec)
    case relu
    /// min(max(x, lo), hi): ReLU6 is clip(0, 6).
    case clip(min: Float, max: Float)
    case sigmoid
    /// x * sigmoid(x) (swish).
    case silu
    case maxPool(kernel: Int, stride: Int, padding: Int, ceilMode: Bool)
    case avgPool(kernel: Int, stride: Int, padding: Int, ceilMode: Bool, countIncludePad: Bool)
    /// To a fixed map size; (1, 1) is global average pooling.
    case adaptiveAvgPool(height: Int, width: Int)
    /// Elementwise sum of the inputs (a residual connection), broadcasting (N, C, 1, 1) over maps.
    case add
    /// Elementwise product of the inputs (squeeze-and-excitation gates), broadcasting as `add`.
    case mul
    /// The inputs side by side along the channel axis.
    case concat
    case flatten
    /// Evaluation mode: the identity (also ONNX Identity).
    case dropout
    case linear(inFeatures: Int, outFeatures: Int)
    /// Over the feature axis of a vector (class probabilities).
    case softmax

    /// The spatial geometry this layer applies (kernel, stride, padding top/left, dilation), or nil if none.
    var window: (kernel: Int, stride: Int, padding: Int, dilation: Int)? {
        switch self {
        case let .conv(c): return (c.kernel, c.stride, c.padding.top, c.dilation)
        case let .maxPool(k, s, p, _): return (k, s, p, 1)
        case let .avgPool(k, s, p, _, _): return (k, s, p, 1)
        default: return nil
        }
    }

    /// Elementwise activations (one input, same shape), which a filter's score reads after its conv.
    public var isActivation: Bool {
        switch self {
        case .relu, .clip, .sigmoid, .silu: return true
        default: return false
        }
    }

    /// Nodes whose output no longer follows the input's spatial size.
    var endsSpatialMaps: Bool {
        switch self {
        case .adaptiveAvgPool, .flatten, .linear, .softmax: return true
        default: return false
        }
    }
}

/// A node of a network at a place in its graph: `features.10`, `classifier.0`, `_blocks.3._depthwise_conv`.
public struct Layer: Equatable, Sendable {
    /// The module path, e.g. "features.10" (checkpoint keys start with it).
    public let path: String
    public let kind: LayerKind
    /// The nodes whose outputs this one reads, by index (earlier in the list); `Layer.image` is the network input.
    public let inputs: [Int]
    /// Extra names the node answers to (graph models; chains derive theirs from `LayerNames.Scheme`), preferred first.
    public let aliases: [String]

    /// The index that stands for the network's input image in `inputs`.
    public static let image = -1

    public init(path: String, kind: LayerKind, inputs: [Int], aliases: [String] = []) {
        self.path = path; self.kind = kind; self.inputs = inputs; self.aliases = aliases
    }

    /// The parameter keys this layer reads from a checkpoint, with their expected shapes (OIHW for convs).
    public var parameterShapes: [(key: String, shape: [Int])] {
        switch kind {
        case let .conv(c):
            var keys: [(String, [Int])] = [("\(path).weight", c.weightShape)]
            if c.bias { keys.append(("\(path).bias", [c.outChannels])) }
            if let bn = c.batchNorm {
                keys += ["weight", "bias", "running_mean", "running_var"].map { ("\(bn.path).\($0)", [c.outChannels]) }
            }
            return keys
        case let .linear(fin, fout):
            return [("\(path).weight", [fout, fin]), ("\(path).bias", [fout])]
        default:
            return []
        }
    }
}
