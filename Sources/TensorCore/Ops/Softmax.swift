import Foundation

// Softmax and log-softmax along one axis, computed stably (max subtracted) in double.

/// Splits `shape` around `axis` into (outer, extent, inner) for strided loops.
private func splitAxis(_ shape: [Int], _ axis: Int, op: String) -> (axis: Int, outer: Int, n: Int, inner: Int) {
    let a = axis < 0 ? axis + shape.count : axis
    precondition(a >= 0 && a < shape.count, "\(op): axis \(axis) out of range for shape \(shape)")
    return (a, shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
}

/// Runs `body(base, stride)` for every line along the axis.
private func forEachLine(outer: Int, n: Int, inner: Int, _ body: (Int, Int) -> Void) {
    for o in 0..<outer { for i in 0..<inner { body(o * n * inner + i, inner) } }
}

/// The line's maximum m and Σ exp(x - m) in double: the stable pieces of both softmaxes.
private func maxAndShiftedExpSum(_ x: [Float], base: Int, stride s: Int, n: Int) -> (max: Float, total: Double) {
    var m = -Float.infinity
    for k in 0..<n { m = max(m, x[base + k * s]) }
    var total = 0.0
    for k in 0..<n { total += Foundation.exp(Double(x[base + k * s] - m)) }
    return (m, total)
}

/// exp(x) / Σ exp(x) along `axis` (torch.softmax).
public func softmax(_ x: Tensor, axis: Int) -> Tensor {
    let (_, outer, n, inner) = splitAxis(x.shape, axis, op: "softmax")
    var y = [Float](repeating: 0, count: x.count)
    forEachLine(outer: outer, n: n, inner: inner) { base, s in
        let (m, total) = maxAndShiftedExpSum(x.storage, base: base, stride: s, n: n)
        for k in 0..<n { y[base + k * s] = Float(Foundation.exp(Double(x.storage[base + k * s] - m)) / total) }
    }
    let yv = y
    return Tensor.result(op: "softmax", shape: x.shape, storage: y, inputs: [x]) { g in
        // dx = y * (g - Σ g y)
        var gx = [Float](repeating: 0, count: yv.count)
        forEachLine(outer: outer, n: n, inner: inner) { base, s in
            var dot = 0.0
            for k in 0..<n { dot += Double(g.storage[base + k * s]) * Double(yv[base + k * s]) }
            for k in 0..<n { gx[base + k * s] = yv[base + k * s] * (g.storage[base + k * s] - Float(dot)) }
        }
        return [Tensor(shape: g.shape, storage: gx)]
    }
}

/// x - log Σ exp(x) along `axis` (torch.log_softmax).
public func logSoftmax(_ x: Tensor, axis: Int) -> Tensor {
    let (_, outer, n, inner) = splitAxis(x.shape, axis, op: "logSoftmax")
    var y = [Float](repeating: 0, count: x.count)
    forEachLine(outer: outer, n: n, inner: inner) { base, s in
        let (m, total) = maxAndShiftedExpSum(x.storage, base: base, stride: s, n: n)
        let lse = Double(m) + Foundation.log(total)
        for k in 0..<n { y[base + k * s] = Float(Double(x.storage[base + k * s]) - lse) }
    }
    let yv = y
    return Tensor.result(op: "log_softmax", shape: x.shape, storage: y, inputs: [x]) { g in
        // dx = g - softmax * Σ g
        var gx = [Float](repeating: 0, count: yv.count)
        forEachLine(outer: outer, n: n, inner: inner) { base, s in
            var total = 0.0
            for k in 0..<n { total += Double(g.storage[base + k * s]) }
            for k in 0..<n { gx[base + k * s] = g.storage[base + k * s] - Foundation.exp(yv[base + k * s]) * Float(total) }
        }
        return [Tensor(shape: g.shape, storage: gx)]
    }
}
