// Broadcasting arithmetic and scalar ops, each with its derivative beside it.

/// Applies `f` elementwise over the broadcast of `a` and `b`.
private func broadcastBinary(_ a: Tensor, _ b: Tensor, op: String,
                             _ f: (Float, Float) -> Float) -> (shape: [Int], storage: [Float]) {
    let shape = Broadcast.shape(a.shape, b.shape, op: op)
    let n = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: n)
    if a.shape == b.shape {
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                for i in 0..<n { out[i] = f(pa[i], pb[i]) }
            }
        }
    } else {
        let ma = Broadcast.indexMap(from: a.shape, to: shape)
        let mb = Broadcast.indexMap(from: b.shape, to: shape)
        for i in 0..<n { out[i] = f(a.storage[ma[i]], b.storage[mb[i]]) }
    }
    return (shape, out)
}

/// Elementwise sum with broadcasting.
public func + (a: Tensor, b: Tensor) -> Tensor {
    let (shape, out) = broadcastBinary(a, b, op: "add", +)
    return Tensor.result(op: "add", shape: shape, storage: out, inputs: [a, b]) { g in
        [Tensor.needsGrad(a) ? Broadcast.reduce(g, to: a.shape) : nil,
         Tensor.needsGrad(b) ? Broadcast.reduce(g, to: b.shape) : nil]
    }
}

/// Elementwise difference with broadcasting.
public func - (a: Tensor, b: Tensor) -> Tensor {
    let (shape, out) = broadcastBinary(a, b, op: "sub", -)
    return Tensor.result(op: "sub", shape: shape, storage: out, inputs: [a, b]) { g in
        [Tensor.needsGrad(a) ? Broadcast.reduce(g, to: a.shape) : nil,
         Tensor.needsGrad(b) ? Broadcast.reduce(g.mapValues { -$0 }, to: b.shape) : nil]
    }
}

/// Elementwise product with broadcasting.
public func * (a: Tensor, b: Tensor) -> Tensor {
    let (shape, out) = broadcastBinary(a, b, op: "mul", *)
    let av = a.detached(), bv = b.detached()
    return Tensor.result(op: "mul", shape: shape, storage: out, inputs: [a, b]) { g in
        [Tensor.needsGrad(a) ? Broadcast.reduce(Tensor(shape: shape, storage: broadcastBinary(g, bv, op: "mul", *).storage), to: a.shape) : nil,
         Tensor.needsGrad(b) ? Broadcast.reduce(Tensor(shape: shape, storage: broadcastBinary(g, av, op: "mul", *).storage), to: b.shape) : nil]
    }
}

/// Elementwise quotient with broadcasting.
public func / (a: Tensor, b: Tensor) -> Tensor {
    let (shape, out) = broadcastBinary(a, b, op: "div", /)
    let av = a.detached(), bv = b.detached()
    return Tensor.result(op: "div", shape: shape, storage: out, inputs: [a, b]) { g in
        var ga: Tensor?, gb: Tensor?
        if Tensor.needsGrad(a) {
            ga = Broadcast.reduce(Tensor(shape: shape, storage: broadcastBinary(g, bv, op: "div", /).storage), to: a.shape)
        }
        if Tensor.needsGrad(b) {
            // d(a/b)/db = -a / b^2
            let ab = broadcastBinary(av, bv, op: "div") { -$0 / ($1 * $1) }
            let gb2 = broadcastBinary(g, Tensor(shape: ab.shape, storage: ab.storage), op: "div", *)
            gb = Broadcast.reduce(Tensor(shape: shape, storage: gb2.storage), to: b.shape)
        }
        return [ga, gb]
    }
}

/// Negation.
public prefix func - (a: Tensor) -> Tensor { a * -1 }

/// Adds a scalar.
public func + (a: Tensor, s: Float) -> Tensor {
    Tensor.result(op: "add_scalar", shape: a.shape, storage: a.storage.map { $0 + s }, inputs: [a]) { g in [g] }
}
public func + (s: Float, a: Tensor) -> Tensor { a + s }
/// Subtracts a scalar.
public func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
public func - (s: Float, a: Tensor) -> Tensor { (a * -1) + s }

/// Multiplies by a scalar.
public func * (a: Tensor, s: Float) -> Tensor {
    Tensor.result(op: "mul_scalar", shape: a.shape, storage: a.storage.map { $0 * s }, inputs: [a]) { g in
        [g.mapValues { $0 * s }]
    }
}
public func * (s: Float, a: Tensor) -> Tensor { a * s }
/// Divides by a scalar.
public func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }

extension Tensor {
    /// A new constant tensor with `f` applied to every element (no autograd).
    public func mapValues(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, storage: storage.map(f))
    }

    /// An elementwise op with derivative `df(x, y)` given input x and output y.
    public func unary(_ op: String, _ f: (Float) -> Float, derivative df: @escaping (Float, Float) -> Float) -> Tensor {
        let x = storage
        let y = x.map(f)
        return Tensor.result(op: op, shape: shape, storage: y, inputs: [self]) { g in
            var out = [Float](repeating: 0, count: x.count)
            for i in 0..<x.count { out[i] = g.storage[i] * df(x[i], y[i]) }
            return [Tensor(shape: g.shape, storage: out)]
        }
    }
}
