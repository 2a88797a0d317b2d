/// A float32 tensor: a shape and contiguous row-major storage (NCHW for images), plus the autograd link.
///
/// `Tensor` is a reference type so that the autograd graph can point at the leaves it must accumulate into.
/// The graph holds `GradNode`s, never the intermediate tensors themselves: each op's backward closure captures
/// only what its derivative needs (a ReLU mask, pooling argmaxes, the weights), so activations are freed as soon
/// as the caller drops them.
public final class Tensor {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// The elements, row-major, `shape.reduce(1, *)` of them.
    public var storage: [Float]
    /// How this tensor was computed (nil for constants and for results made in no-grad mode).
    public internal(set) var gradNode: GradNode?
    /// The accumulated gradient of a leaf that requires it, filled by `backward()`.
    public var grad: Tensor?

    /// Creates a tensor from its shape and storage; the counts must agree.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        precondition(shape.reduce(1, *) == storage.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of zeros.
    public convenience init(zeros shape: [Int]) {
        self.init(shape: shape, storage: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor with every element equal to `value`.
    public convenience init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, storage: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A scalar (rank-0) tensor.
    public convenience init(scalar: Float) {
        self.init(shape: [], storage: [scalar])
    }

    /// The number of elements.
    public var count: Int { storage.count }
    /// The number of axes.
    public var rank: Int { shape.count }
    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return storage[0]
    }

    /// Whether gradients flow to or through this tensor.
    public var tracksGrad: Bool { gradNode != nil }

    /// Marks a leaf as needing its gradient (`grad` is filled by `backward()`); false drops the link.
    public var requiresGrad: Bool {
        get { gradNode != nil }
        set {
            if newValue {
                if gradNode == nil { gradNode = GradNode(leaf: self) }
            } else {
                gradNode = nil
            }
        }
    }

    /// A copy of the values with no autograd history.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Strides (in elements) of the row-major layout.
    public var strides: [Int] { Tensor.rowMajorStrides(shape) }

    static func rowMajorStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = storage.prefix(8).map { String(format: "%.5g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", ..." : "")])"
    }
}
