// Sums and means over axes.

extension Tensor {
    /// Resolves negative axes and checks range.
    func normalizedAxes(_ axes: [Int], op: String) -> [Int] {
        let resolved = axes.map { $0 < 0 ? $0 + rank : $0 }
        precondition(resolved.allSatisfy { $0 >= 0 && $0 < rank },
                     "\(op): axes \(axes) out of range for shape \(shape)")
        return Array(Set(resolved)).sorted()
    }
}

/// The sum over `axes` (all axes when nil). With `keepDims` the reduced axes stay with extent 1.
public func sum(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let axes = x.normalizedAxes(axes ?? Array(0..<x.rank), op: "sum")
    let keptShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    let outShape = keepDims ? keptShape : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    let map = Broadcast.indexMap(from: keptShape, to: x.shape)
    var out = [Float](repeating: 0, count: keptShape.reduce(1, *))
    // Accumulate in double so large sums stay accurate, in one fixed order.
    var acc = [Double](repeating: 0, count: out.count)
    for i in 0..<x.count { acc[map[i]] += Double(x.storage[i]) }
    for i in 0..<out.count { out[i] = Float(acc[i]) }
    let inShape = x.shape
    return Tensor.result(op: "sum", shape: outShape, storage: out, inputs: [x]) { g in
        var gx = [Float](repeating: 0, count: map.count)
        for i in 0..<map.count { gx[i] = g.storage[map[i]] }
        return [Tensor(shape: inShape, storage: gx)]
    }
}

/// The mean over `axes` (all axes when nil).
public func mean(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let resolved = x.normalizedAxes(axes ?? Array(0..<x.rank), op: "mean")
    let n = resolved.reduce(1) { $0 * x.shape[$1] }
    precondition(n > 0, "mean: reducing an empty extent of shape \(x.shape)")
    return sum(x, axes: resolved, keepDims: keepDims) * (1 / Float(n))
}
