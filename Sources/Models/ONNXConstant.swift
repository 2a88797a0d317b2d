import Checkpoints

/// A small tensor the ONNX importer knows while importing: a Constant, an initializer read by shape arithmetic,
/// or what Shape/Gather/Slice/Concat/... make of them. One value may stand for the batch size, which is not known
/// until the network runs (Shape of a map gives (batch, C, H, W)).
struct ONNXConstant: Equatable {
    var shape: [Int]
    /// Row-major values; `batch` marks the flat indices that stand for the batch size instead.
    var values: [Double]
    var batch: Set<Int> = []

    /// Shape arithmetic beyond this many values is not shape arithmetic.
    static let limit = 1 << 20

    var count: Int { values.count }

    init(shape: [Int], values: [Double], batch: Set<Int> = []) {
        self.shape = shape; self.values = values; self.batch = batch
    }

    /// Exact integers for int64/int32 (Float would round above 2^24), floats otherwise.
    init(_ tensor: CheckpointTensor) throws {
        guard tensor.count <= Self.limit else { throw ConstantProblem("\(tensor.count) values are too many to fold") }
        switch tensor.dtype {
        case .i64, .i32:
            let width = tensor.dtype.size
            values = tensor.data.withUnsafeBytes { raw in
                (0..<tensor.count).map { i in
                    width == 8 ? Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                        : Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            }
        default: values = try tensor.floats().map(Double.init)
        }
        shape = tensor.shape
    }

    /// The values as integers (shape arithmetic), refusing the batch size unless `allowingBatch`, which maps it to nil.
    func ints(allowingBatch: Bool = false) throws -> [Int?] {
        try values.indices.map { i in
            if batch.contains(i) {
                guard allowingBatch else { throw ConstantProblem("depends on the batch size, known only when the network runs") }
                return nil
            }
            return try Self.int(values[i])
        }
    }

    func knownInts() throws -> [Int] { try ints().map { $0! } }

    static func int(_ value: Double) throws -> Int {
        guard value.isFinite, value == value.rounded(), abs(value) <= 0x1p62 else { throw ConstantProblem("\(value) is not an integer") }
        return Int(value)
    }

    /// Integers of a slice bound: int64 extremes (INT64_MAX as "to the end") clamp instead of failing.
    func clampedInts() throws -> [Int] {
        guard batch.isEmpty else { throw ConstantProblem("depends on the batch size, known only when the network runs") }
        return try values.map { value in
            guard !value.isNaN else { throw ConstantProblem("NaN is not an index") }
            return try Self.int(Swift.min(Swift.max(value.rounded(.towardZero), -0x1p62), 0x1p62))
        }
    }

    static func elementCount(_ shape: [Int]) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw ConstantProblem("negative dimension in \(shape)") }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= limit else { throw ConstantProblem("shape \(shape) holds too many values to fold") }
            n = p
        }
        return n
    }

    private static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
        return s
    }

    /// Values at the given flat indices, batch marks kept.
    private func picking(_ indices: [Int], shape: [Int]) -> ONNXConstant {
        var out = ONNXConstant(shape: shape, values: indices.map { values[$0] })
        for (i, source) in indices.enumerated() where batch.contains(source) { out.batch.insert(i) }
        return out
    }

    private func axis(_ a: Int, rank: Int) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0, r < Swift.max(rank, 1) else { throw ConstantProblem("axis \(a) is outside rank \(rank)") }
        return r
    }

    // MARK: Folding

    func reshaped(_ target: [Int]) throws -> ONNXConstant {
        var dims = target
        for (i, d) in target.enumerated() where d == 0 {
            guard i < shape.count else { throw ConstantProblem("reshape 0 at axis \(i) copies a dimension \(shape) lacks") }
            dims[i] = shape[i]
        }
        if let unknown = dims.firstIndex(of: -1) {
            let rest = try Self.elementCount(dims.enumerated().filter { $0.offset != unknown }.map(\.element))
            guard rest > 0, count % rest == 0 else { throw ConstantProblem("cannot reshape \(shape) to \(target)") }
            dims[unknown] = count / rest
        }
        guard try Self.elementCount(dims) == count else { throw ConstantProblem("cannot reshape \(shape) to \(target)") }
        var out = self
        out.shape = dims
        return out
    }

    func transposed(_ perm: [Int]) throws -> ONNXConstant {
        let perm = perm.isEmpty ? Array((0..<shape.count).reversed()) : perm
        guard perm.sorted() == Array(0..<shape.count) else { throw ConstantProblem("perm \(perm) does not fit rank \(shape.count)") }
        let outShape = perm.map { shape[$0] }, inStrides = Self.strides(shape)
        var indices: [Int] = []
        indices.reserveCapacity(count)
        forEachIndex(outShape) { index in indices.append(zip(index, perm).reduce(0) { $0 + $1.0 * inStrides[$1.1] }) }
        return picking(indices, shape: outShape)
    }

    /// ONNX Slice: per axis, start/end clamped to the dimension, steps of either sign.
    func sliced(starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> ONNXConstant {
        let rank = shape.count
        let axes = try (axes ?? Array(0..<starts.count)).map { try axis($0, rank: rank) }
        let steps = steps ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, Set(axes).count == axes.count else {
            throw ConstantProblem("Slice starts \(starts), ends \(ends), axes \(axes), steps \(steps) do not fit together")
        }
        var ranges = shape.map { Array(0..<$0) }
        for (k, a) in axes.enumerated() {
            let d = shape[a], step = steps[k]
            guard step != 0 else { throw ConstantProblem("Slice step 0") }
            var start = starts[k] < 0 ? starts[k] + d : starts[k], end = ends[k] < 0 ? ends[k] + d : ends[k]
            if step > 0 {
                start = Swift.min(Swift.max(start, 0), d); end = Swift.min(Swift.max(end, 0), d)
                ranges[a] = start < end ? Array(stride(from: start, to: end, by: step)) : []
            } else {
                start = Swift.min(Swift.max(start, -1), d - 1); end = Swift.min(Swift.max(end, -1), d - 1)
                ranges[a] = start > end ? Array(stride(from: start, to: end, by: step)) : []
            }
        }
        let outShape = ranges.map(\.count), inStrides = Self.strides(shape)
        var indices: [Int] = []
        forEachIndex(outShape) { index in
            indices.append(index.enumerated().reduce(0) { $0 + ranges[$1.offset][$1.element] * inStrides[$1.offset] })
        }
        return picking(indices, shape: outShape)
    }

    func gathered(_ indices: ONNXConstant, axis a: Int) throws -> ONNXConstant {
        let ax = try axis(a, rank: shape.count)
        let d = shape[ax], picks = try indices.knownInts().map { i -> Int in
            let j = i < 0 ? i + d : i
            guard j >= 0, j < d else { throw ConstantProblem("Gather index \(i) is outside a dimension of \(d)") }
            return j
        }
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        var flat: [Int] = []
        for o in 0..<outer { for p in picks { for i in 0..<inner { flat.append((o * d + p) * inner + i) } } }
        return picking(flat, shape: Array(shape[..<ax]) + indices.shape + Array(shape[(ax + 1)...]))
    }

    static func concatenated(_ parts: [ONNXConstant], axis a: Int) throws -> ONNXConstant {
        guard let first = parts.first else { throw ConstantProblem("Concat of nothing") }
        let ax = try first.axis(a, rank: first.shape.count)
        for p in parts where p.shape.count != first.shape.count || p.shape.enumerated().contains(where: { $0.offset != ax && $0.element != first.shape[$0.offset] }) {
            throw ConstantProblem("Concat of shapes \(first.shape) and \(p.shape) on axis \(a)")
        }
        let outer = first.shape[..<ax].reduce(1, *)
        var out = ONNXConstant(shape: first.shape, values: [])
        out.shape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        _ = try elementCount(out.shape)
        for o in 0..<outer {
            for p in parts {
                let block = p.shape[ax...].reduce(1, *)
                for i in (o * block)..<((o + 1) * block) {
                    if p.batch.contains(i) { out.batch.insert(out.values.count) }
                    out.values.append(p.values[i])
                }
            }
        }
        return out
    }

    /// Elementwise arithmetic with numpy broadcasting, on known values only.
    static func combined(_ a: ONNXConstant, _ b: ONNXConstant, _ op: (Double, Double) -> Double) throws -> ONNXConstant {
        guard a.batch.isEmpty, b.batch.isEmpty else { throw ConstantProblem("arithmetic on the batch size, known only when the network runs") }
        let rank = Swift.max(a.shape.count, b.shape.count)
        let sa = [Int](repeating: 1, count: rank - a.shape.count) + a.shape, sb = [Int](repeating: 1, count: rank - b.shape.count) + b.shape
        var shape: [Int] = []
        for (x, y) in zip(sa, sb) {
            guard x == y || x == 1 || y == 1 else { throw ConstantProblem("shapes \(a.shape) and \(b.shape) do not broadcast") }
            shape.append(x == 1 ? y : x)
        }
        _ = try elementCount(shape)
        let ta = strides(sa), tb = strides(sb)
        var values: [Double] = []
        forEachIndex(shape) { index in
            var ia = 0, ib = 0
            for k in 0..<rank {
                if sa[k] != 1 { ia += index[k] * ta[k] }
                if sb[k] != 1 { ib += index[k] * tb[k] }
            }
            values.append(op(a.values[ia], b.values[ib]))
        }
        return ONNXConstant(shape: shape, values: values)
    }
}

/// Calls `body` with every index of `shape` in row-major order (once for a scalar).
private func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
    guard !shape.contains(0) else { return }
    var index = [Int](repeating: 0, count: shape.count)
    while true {
        body(index)
        var k = shape.count - 1
        while k >= 0 {
            index[k] += 1
            if index[k] < shape[k] { break }
            index[k] = 0
            k -= 1
        }
        if k < 0 { return }
    }
}

/// Why a constant could not be folded; the importer adds the node.
struct ConstantProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
