import Foundation

// Small elementwise extras the image-optimisation engine needs: powers, elementwise extremes, sum of squares.

/// x raised to a constant power (torch `x.pow(p)`); the gradient is p·x^(p-1).
public func pow(_ x: Tensor, _ p: Float) -> Tensor {
    if p == 2 { return square(x) }
    return x.unary("pow", { Foundation.pow($0, p) }, derivative: { x, _ in p == 0 ? 0 : p * Foundation.pow(x, p - 1) })
}

/// Shared body of maximum/minimum: `pick(a, b)` is true where a wins; ties split the gradient in half
/// (torch.maximum / torch.minimum).
private func extremum(_ a: Tensor, _ b: Tensor, op: String, _ aWins: @escaping (Float, Float) -> Bool) -> Tensor {
    let shape = Broadcast.shape(a.shape, b.shape, op: op)
    let ma = Broadcast.indexMap(from: a.shape, to: shape), mb = Broadcast.indexMap(from: b.shape, to: shape)
    let n = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: n)
    // Share of the gradient that goes to a: 1, 0, or 0.5 on ties.
    var shareA = [Float](repeating: 0, count: n)
    for i in 0..<n {
        let x = a.storage[ma[i]], y = b.storage[mb[i]]
        if x == y { out[i] = x; shareA[i] = 0.5 }
        else if aWins(x, y) { out[i] = x; shareA[i] = 1 }
        else { out[i] = y; shareA[i] = 0 }
    }
    let aShape = a.shape, bShape = b.shape
    return Tensor.result(op: op, shape: shape, storage: out, inputs: [a, b]) { g in
        var ga: Tensor?, gb: Tensor?
        if Tensor.needsGrad(a) {
            ga = Broadcast.reduce(Tensor(shape: shape, storage: (0..<n).map { g.storage[$0] * shareA[$0] }), to: aShape)
        }
        if Tensor.needsGrad(b) {
            gb = Broadcast.reduce(Tensor(shape: shape, storage: (0..<n).map { g.storage[$0] * (1 - shareA[$0]) }), to: bShape)
        }
        return [ga, gb]
    }
}

/// Elementwise larger value with broadcasting; ties share the gradient equally (torch.maximum).
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, op: "maximum", >) }

/// Elementwise smaller value with broadcasting; ties share the gradient equally (torch.minimum).
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, op: "minimum", <) }

/// Σ x² over all elements as a scalar (an L2 penalty without the square-root's kink), accumulated in double.
public func squareSum(_ x: Tensor) -> Tensor {
    var total = 0.0
    for v in x.storage { total += Double(v) * Double(v) }
    let xv = x.storage, shape = x.shape
    return Tensor.result(op: "square_sum", shape: [], storage: [Float(total)], inputs: [x]) { g in
        let s = 2 * g.scalar
        return [Tensor(shape: shape, storage: xv.map { $0 * s })]
    }
}
