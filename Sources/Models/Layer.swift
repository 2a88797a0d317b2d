/// One module of a network, as data: what it computes and the parameters it owns.
///
/// Indices follow torchvision's `nn.Sequential` numbering, so checkpoint keys (`features.10.weight`) load
/// without a hand-written map.
public enum LayerKind: Equatable, Sendable {
    case conv(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, dilation: Int)
    case relu
    case maxPool(kernel: Int, stride: Int, padding: Int, ceilMode: Bool)
    case adaptiveAvgPool(height: Int, width: Int)
    case flatten
    case dropout
    case linear(inFeatures: Int, outFeatures: Int)

    /// The spatial geometry this layer applies (kernel, stride, padding, dilation), or nil if none.
    var window: (kernel: Int, stride: Int, padding: Int, dilation: Int)? {
        switch self {
        case let .conv(_, _, k, s, p, d): return (k, s, p, d)
        case let .maxPool(k, s, p, _): return (k, s, p, 1)
        default: return nil
        }
    }
}

/// A module at a place in the network: `features.10`, `classifier.0`, or the `avgpool` between them.
public struct Layer: Equatable, Sendable {
    /// The torchvision module path, e.g. "features.10".
    public let path: String
    public let kind: LayerKind

    /// The parameter keys this layer reads from a checkpoint, with their expected shapes (OIHW for convs).
    public var parameterShapes: [(key: String, shape: [Int])] {
        switch kind {
        case let .conv(cin, cout, k, _, _, _):
            return [("\(path).weight", [cout, cin, k, k]), ("\(path).bias", [cout])]
        case let .linear(fin, fout):
            return [("\(path).weight", [fout, fin]), ("\(path).bias", [fout])]
        default:
            return []
        }
    }
}
