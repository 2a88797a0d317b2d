// Optimisers update parameters in place from their accumulated gradients, minimising like torch.optim.

/// A first-order optimiser: `step` updates each parameter's storage from its `grad`, then clears the grads.
///
/// State (moments, momentum buffers) is kept per position in `params`, so pass the same parameters in the
/// same order every step. Parameters without a gradient are skipped, as in PyTorch.
public protocol Optimizer: AnyObject {
    /// One update of `params` from their gradients; afterwards every `grad` is nil (PyTorch's set_to_none).
    func step(_ params: [Tensor])
}

/// Per-parameter state buffers, checked against the parameters' shapes on every step.
struct OptimizerSlots {
    private(set) var buffers: [[Float]] = []
    private var shapes: [[Int]] = []
    let name: String

    init(name: String) { self.name = name }

    /// Makes sure there is one zero-initialised buffer per parameter, matching shapes, and returns whether
    /// the buffers were just created.
    mutating func prepare(_ params: [Tensor]) -> Bool {
        if shapes.isEmpty {
            shapes = params.map(\.shape)
            buffers = params.map { [Float](repeating: 0, count: $0.count) }
            return true
        }
        precondition(shapes == params.map(\.shape),
                     "\(name).step: parameters changed between steps (was \(shapes), now \(params.map(\.shape))); use a new optimiser for new parameters")
        return false
    }

    subscript(i: Int) -> [Float] {
        get { buffers[i] }
        _modify { yield &buffers[i] }
    }
}
