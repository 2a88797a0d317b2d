/// Broadcasting of two shapes, NumPy/PyTorch rules: align on the right, extents equal or 1.
enum Broadcast {
    /// The broadcast shape of `a` and `b`, or a precondition failure naming the op and shapes.
    static func shape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "\(op): shapes \(a) and \(b) do not broadcast (axis \(i): \(da) vs \(db))")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// For each output element, the index into an input of shape `input` broadcast to `output`.
    static func indexMap(from input: [Int], to output: [Int]) -> [Int] {
        let n = output.reduce(1, *)
        if input == output { return Array(0..<n) }
        let rank = output.count
        let padded = [Int](repeating: 1, count: rank - input.count) + input
        let inStrides = Tensor.rowMajorStrides(padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
        return stridedOffsets(shape: output, strides: inStrides)
    }

    /// For each element of `shape` in row-major order, the offset `sum(index[axis] * strides[axis])`: the one
    /// strided walk behind broadcasting (stride 0 on broadcast axes) and permutation (permuted strides).
    static func stridedOffsets(shape: [Int], strides: [Int]) -> [Int] {
        let n = shape.reduce(1, *), rank = shape.count
        var offsets = [Int](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        for i in 0..<n {
            offsets[i] = offset
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return offsets
    }

    /// Sums `grad` (of the broadcast shape) back down to `shape`, the reverse of broadcasting.
    static func reduce(_ grad: Tensor, to shape: [Int]) -> Tensor {
        if grad.shape == shape { return grad }
        let map = indexMap(from: shape, to: grad.shape)
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        for i in 0..<grad.count { out[map[i]] += grad.storage[i] }
        return Tensor(shape: shape, storage: out)
    }
}
