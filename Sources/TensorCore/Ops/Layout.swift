// Axis permutation, slicing and concatenation (results are contiguous copies).

/// Copies `x` with its axes reordered: result axis i is input axis `order[i]` (torch `x.permute(order)`).
public func permute(_ x: Tensor, _ order: [Int]) -> Tensor {
    let order = order.map { $0 < 0 ? $0 + x.rank : $0 }
    precondition(order.count == x.rank && order.sorted() == Array(0..<x.rank),
                 "permute: order \(order) is not a permutation of the \(x.rank) axes of shape \(x.shape)")
    let outShape = order.map { x.shape[$0] }
    let out = gatherPermuted(x.storage, shape: x.shape, order: order)
    var inverse = [Int](repeating: 0, count: order.count)
    for (i, a) in order.enumerated() { inverse[a] = i }
    let inShape = x.shape
    return Tensor.result(op: "permute", shape: outShape, storage: out, inputs: [x]) { g in
        [Tensor(shape: inShape, storage: gatherPermuted(g.storage, shape: outShape, order: inverse))]
    }
}

/// Row-major values of `values` (shape `shape`) with axes permuted by `order`.
private func gatherPermuted(_ values: [Float], shape: [Int], order: [Int]) -> [Float] {
    if order == Array(0..<order.count) { return values }
    let inStrides = Tensor.rowMajorStrides(shape)
    let outShape = order.map { shape[$0] }
    let srcStrides = order.map { inStrides[$0] }
    let offsets = Broadcast.stridedOffsets(shape: outShape, strides: srcStrides)
    return offsets.map { values[$0] }
}

/// Swaps two axes (torch `x.transpose(a, b)`).
public func transpose(_ x: Tensor, _ a: Int, _ b: Int) -> Tensor {
    let a = a < 0 ? a + x.rank : a, b = b < 0 ? b + x.rank : b
    precondition(a >= 0 && a < x.rank && b >= 0 && b < x.rank, "transpose: axes \(a), \(b) out of range for shape \(x.shape)")
    var order = Array(0..<x.rank)
    order.swapAt(a, b)
    return permute(x, order)
}

/// The elements at `range` (stepping by `step`) along `axis` (torch `x[..., lo:hi:step, ...]`).
public func slice(_ x: Tensor, axis: Int, range: Range<Int>, step: Int = 1) -> Tensor {
    let axis = axis < 0 ? axis + x.rank : axis
    precondition(axis >= 0 && axis < x.rank, "slice: axis \(axis) out of range for shape \(x.shape)")
    precondition(range.lowerBound >= 0 && range.upperBound <= x.shape[axis] && step >= 1,
                 "slice: range \(range) step \(step) does not fit axis \(axis) of shape \(x.shape)")
    let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
    let n = x.shape[axis], m = (range.count + step - 1) / step
    var outShape = x.shape
    outShape[axis] = m
    var out = [Float](repeating: 0, count: outer * m * inner)
    for o in 0..<outer {
        for k in 0..<m {
            let src = (o * n + range.lowerBound + k * step) * inner, dst = (o * m + k) * inner
            for e in 0..<inner { out[dst + e] = x.storage[src + e] }
        }
    }
    let inShape = x.shape, lo = range.lowerBound
    return Tensor.result(op: "slice", shape: outShape, storage: out, inputs: [x]) { g in
        var gx = [Float](repeating: 0, count: outer * n * inner)
        for o in 0..<outer {
            for k in 0..<m {
                let dst = (o * n + lo + k * step) * inner, src = (o * m + k) * inner
                for e in 0..<inner { gx[dst + e] = g.storage[src + e] }
            }
        }
        return [Tensor(shape: inShape, storage: gx)]
    }
}

/// Joins tensors along `axis`; all other extents must agree (torch.cat).
public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    precondition(!xs.isEmpty, "concat: needs at least one tensor")
    let rank = xs[0].rank
    let axis = axis < 0 ? axis + rank : axis
    precondition(axis >= 0 && axis < rank, "concat: axis \(axis) out of range for shape \(xs[0].shape)")
    for x in xs {
        precondition(x.rank == rank && (0..<rank).allSatisfy { $0 == axis || x.shape[$0] == xs[0].shape[$0] },
                     "concat: shapes \(xs.map(\.shape)) differ outside axis \(axis)")
    }
    let outer = xs[0].shape[..<axis].reduce(1, *), inner = xs[0].shape[(axis + 1)...].reduce(1, *)
    let extents = xs.map { $0.shape[axis] }
    let total = extents.reduce(0, +)
    var outShape = xs[0].shape
    outShape[axis] = total
    var out = [Float](repeating: 0, count: outer * total * inner)
    var start = 0
    for (x, e) in zip(xs, extents) {
        let block = e * inner
        for o in 0..<outer {
            let dst = (o * total + start) * inner
            for k in 0..<block { out[dst + k] = x.storage[o * block + k] }
        }
        start += e
    }
    return Tensor.result(op: "concat", shape: outShape, storage: out, inputs: xs) { g in
        var grads: [Tensor?] = []
        var start = 0
        for (x, e) in zip(xs, extents) {
            defer { start += e }
            guard Tensor.needsGrad(x) else { grads.append(nil); continue }
            let block = e * inner
            var gx = [Float](repeating: 0, count: outer * block)
            for o in 0..<outer {
                let src = (o * total + start) * inner
                for k in 0..<block { gx[o * block + k] = g.storage[src + k] }
            }
            grads.append(Tensor(shape: x.shape, storage: gx))
        }
        return grads
    }
}
