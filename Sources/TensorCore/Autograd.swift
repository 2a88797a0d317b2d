
/// One step of a computation that gradients flow back through.
///
/// A node knows the nodes of its inputs (nil where an input needs no gradient) and a closure that maps the
/// gradient of its output to the gradients of its inputs. A leaf node instead accumulates into its tensor.
public final class GradNode {
    let parents: [GradNode?]
    var backward: ((Tensor) -> [Tensor?])?
    /// The tensor a leaf node accumulates into. Strong: the caller asked for its gradient.
    let leaf: Tensor?
    /// For error messages: which op made this node.
    let opName: String

    init(leaf: Tensor) {
        self.parents = []
        self.backward = nil
        self.leaf = leaf
        self.opName = "leaf"
    }

    init(op: String, parents: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.parents = parents
        self.backward = backward
        self.leaf = nil
        self.opName = op
    }
}

/// Whether ops record the autograd graph. Off inside `GradMode.withoutGrad` (inference, the optimiser's updates).
public enum GradMode {
    /// Task-local (and thread-local outside tasks), so concurrent callers never switch each other's mode.
    @TaskLocal private static var disabled = false

    /// True when ops record gradients.
    public static var isEnabled: Bool { !disabled }

    /// Runs `body` without recording any autograd graph (faster, and nothing is kept for backward).
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
        try $disabled.withValue(true) { try body() }
    }
}

extension Tensor {
    /// Builds an op's result and, when any input tracks gradients and grad mode is on, its graph node.
    ///
    /// - Parameters:
    ///   - op: the op's name, used in error messages.
    ///   - inputs: the op's tensor inputs, in the order `backward` returns their gradients.
    ///   - backward: maps the output gradient to one gradient per input (nil for inputs that need none).
    ///     It is called at most once, then released, so whatever it captured is freed.
    public static func result(op: String, shape: [Int], storage: [Float], inputs: [Tensor],
                              backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        let out = Tensor(shape: shape, storage: storage)
        if GradMode.isEnabled, inputs.contains(where: { $0.gradNode != nil }) {
            out.gradNode = GradNode(op: op, parents: inputs.map { $0.gradNode }, backward: backward)
        }
        return out
    }

    /// Whether `input` tracks gradients, i.e. an op's backward must compute its gradient (else it may return nil).
    public static func needsGrad(_ input: Tensor) -> Bool { input.gradNode != nil }

    /// Reverse-mode differentiation from this tensor.
    ///
    /// `seed` is the gradient of the final score with respect to this tensor (default: ones, which for a
    /// scalar is d(self)/d(self) = 1). Gradients accumulate (`+=`) into the `grad` of every leaf that
    /// requires it. Each node's closure is released once run, freeing what it held.
    public func backward(seed: Tensor? = nil) {
        guard let root = gradNode else {
            preconditionFailure("backward: tensor of shape \(shape) does not depend on anything that requires a gradient")
        }
        let seedGrad = seed ?? Tensor(repeating: 1, shape: shape)
        precondition(seedGrad.shape == shape, "backward: seed shape \(seedGrad.shape) differs from tensor shape \(shape)")

        // Topological order (iterative DFS, so deep graphs cannot overflow the stack).
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.parents.count {
                stack.append((node, next + 1))
                if let parent = node.parents[next], visited.insert(ObjectIdentifier(parent)).inserted {
                    stack.append((parent, 0))
                }
            } else {
                order.append(node)
            }
        }

        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seedGrad]
        for node in order.reversed() {
            guard let gradOut = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            if let leaf = node.leaf {
                if let existing = leaf.grad {
                    existing.storage.withUnsafeMutableBufferPointer { dst in
                        gradOut.storage.withUnsafeBufferPointer { src in
                            for i in 0..<dst.count { dst[i] += src[i] }
                        }
                    }
                } else {
                    leaf.grad = Tensor(shape: gradOut.shape, storage: gradOut.storage)
                }
                continue
            }
            guard let backward = node.backward else {
                preconditionFailure("backward: the graph through '\(node.opName)' was already used; call backward once per forward")
            }
            node.backward = nil
            let inputGrads = GradMode.withoutGrad { backward(gradOut) }
            precondition(inputGrads.count == node.parents.count,
                         "backward: op '\(node.opName)' returned \(inputGrads.count) gradients for \(node.parents.count) inputs")
            for (parent, grad) in zip(node.parents, inputGrads) {
                guard let parent, let grad else { continue }
                let key = ObjectIdentifier(parent)
                if let existing = pending[key] {
                    precondition(existing.shape == grad.shape,
                                 "backward: op '\(node.opName)' gave gradient \(grad.shape) for an input seen as \(existing.shape)")
                    existing.storage.withUnsafeMutableBufferPointer { dst in
                        grad.storage.withUnsafeBufferPointer { src in
                            for i in 0..<dst.count { dst[i] += src[i] }
                        }
                    }
                } else {
                    // A fresh object sharing the (copy-on-write) storage: ops may hand the same gradient
                    // tensor to several inputs, and accumulating into one must not change the others.
                    pending[key] = Tensor(shape: grad.shape, storage: grad.storage)
                }
            }
        }
    }
}
