import Foundation

// Elementwise activations and maths; the derivative is given as a function of input x and output y.

/// max(x, 0). The gradient at exactly 0 is 0, as in PyTorch.
public func relu(_ x: Tensor) -> Tensor {
    x.unary("relu", { max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
}

/// x for x > 0, slope * x otherwise.
public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor {
    x.unary("leaky_relu", { $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
}

/// 1 / (1 + e^-x).
public func sigmoid(_ x: Tensor) -> Tensor {
    x.unary("sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, derivative: { _, y in y * (1 - y) })
}

/// Hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor {
    x.unary("tanh", { Foundation.tanh($0) }, derivative: { _, y in 1 - y * y })
}

/// x squared.
public func square(_ x: Tensor) -> Tensor {
    x.unary("square", { $0 * $0 }, derivative: { x, _ in 2 * x })
}

/// Square root (inputs must be >= 0; the gradient at 0 is +inf as in PyTorch).
public func sqrt(_ x: Tensor) -> Tensor {
    x.unary("sqrt", { $0.squareRoot() }, derivative: { _, y in 0.5 / y })
}

/// Absolute value; the gradient at 0 is 0, as in PyTorch.
public func abs(_ x: Tensor) -> Tensor {
    x.unary("abs", { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
}

/// e^x.
public func exp(_ x: Tensor) -> Tensor {
    x.unary("exp", { Foundation.exp($0) }, derivative: { _, y in y })
}

/// Natural logarithm.
public func log(_ x: Tensor) -> Tensor {
    x.unary("log", { Foundation.log($0) }, derivative: { x, _ in 1 / x })
}

/// Clamps into [lo, hi]; the gradient passes where lo <= x <= hi, as in PyTorch.
public func clamp(_ x: Tensor, min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
    precondition(lo <= hi, "clamp: min \(lo) is greater than max \(hi)")
    return x.unary("clamp", { Swift.min(Swift.max($0, lo), hi) }, derivative: { x, _ in x >= lo && x <= hi ? 1 : 0 })
}

/// Clamps into [min, max] like `clamp`, but the gradient passes only where min < x < max, strictly (torch's
/// hardtanh_backward; ReLU6 is hardtanh(x, min: 0, max: 6)). `clamp` keeps its inclusive derivative for its callers.
public func hardtanh(_ x: Tensor, min lo: Float = -1, max hi: Float = 1) -> Tensor {
    precondition(lo <= hi, "hardtanh: min \(lo) is greater than max \(hi)")
    return x.unary("hardtanh", { Swift.min(Swift.max($0, lo), hi) }, derivative: { x, _ in x > lo && x < hi ? 1 : 0 })
}
