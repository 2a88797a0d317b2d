import Foundation

/// Walks an unpickled object tree and collects its tensors under dotted names ("features.0.weight",
/// "VGG16_0.Conv_0.kernel"); scalar leaves (epoch numbers, strings) become metadata, anything else is skipped.
struct PickleTensors {
    /// Nesting deeper than this is refused: real checkpoints nest a handful of levels.
    static let maxDepth = 64

    let graph: PickleGraph
    /// The bytes of a storage, from the file's storage records.
    let storageBytes: (StorageRef) throws -> Data
    private(set) var tensors: [CheckpointTensor] = []
    private(set) var metadata: [String: String] = [:]
    /// Tensors may reorder the bytes they come from but not multiply them: a stride-0 view of a few bytes, or
    /// one array reached through containers shared many times over, must not load as gigabytes. All tensors
    /// together may hold at most 4x the bytes of the distinct storages and arrays they come from, plus 1 MiB,
    /// and the walk visits at most 2^20 values (shared containers make a tree exponentially larger than its file).
    static let maxExpansion = 4
    static let expansionSlack = 1 << 20
    static let maxVisits = 1 << 20
    private var tensorBytes = 0
    private var sourceBytes = 0
    private var sources: Set<String> = []
    private var visits = 0

    /// Collects every tensor reachable from the graph's root.
    static func collect(_ graph: PickleGraph, storageBytes: @escaping (StorageRef) throws -> Data = { _ in
        throw CheckpointError("a storage is referenced but the file has no storages")
    }) throws -> (tensors: [CheckpointTensor], metadata: [String: String]) {
        var walker = PickleTensors(graph: graph, storageBytes: storageBytes)
        try walker.visit(graph.root, name: "", depth: 0)
        return (walker.tensors, walker.metadata)
    }

    private mutating func visit(_ value: PickleValue, name: String, depth: Int) throws {
        guard depth <= Self.maxDepth else {
            throw CheckpointError("'\(name)' nests deeper than \(Self.maxDepth) levels (or contains a cycle)")
        }
        visits += 1
        guard visits <= Self.maxVisits else {
            throw CheckpointError("the pickle's containers expand to more than \(Self.maxVisits) values "
                + "(the same containers shared many times over); this is not a checkpoint")
        }
        func child(_ key: String) -> String { name.isEmpty ? key : "\(name).\(key)" }
        switch value {
        case .object(let index):
            switch graph.objects[index] {
            case .dict(let dict):
                for (key, item) in dict.items {
                    switch key {
                    case .string(let s): try visit(item, name: child(s), depth: depth + 1)
                    case .int(let i): try visit(item, name: child(String(i)), depth: depth + 1)
                    default: continue  // non-string keys cannot name a tensor
                    }
                }
            case .list(let items), .tuple(let items):
                for (i, item) in items.enumerated() { try visit(item, name: child(String(i)), depth: depth + 1) }
            case .tensor(let ref):
                let tensor = try tensor(ref, name: name.isEmpty ? "tensor" : name)
                tensors.append(tensor)
            case .ndarray(let array):
                let label = name.isEmpty ? "array" : name
                try spend(array.data?.count ?? 0, from: "array \(index)", sourceBytes: array.data?.count ?? 0, name: label)
                let tensor = try tensor(array, name: label)
                tensors.append(tensor)
            case .storage, .numpyDType:
                break
            }
        case .int(let i): if !name.isEmpty { metadata[name] = String(i) }
        case .float(let f): if !name.isEmpty { metadata[name] = String(f) }
        case .string(let s): if !name.isEmpty { metadata[name] = s }
        case .bool(let b): if !name.isEmpty { metadata[name] = String(b) }
        case .none, .bigInt, .bytes, .global: break
        }
    }

    /// A PyTorch tensor view, materialised contiguously from its storage.
    private mutating func tensor(_ ref: TensorRef, name: String) throws -> CheckpointTensor {
        let dtype = ref.storage.dtype
        var bytes = try storageBytes(ref.storage)
        try spend(try elementCount(ref.shape, name: name) * dtype.size,  // <= (2^31 - 1) * 64 * 8: no overflow
                  from: "storage \(ref.storage.key)", sourceBytes: bytes.count, name: name)
        if let declared = ref.storage.declaredCount,
           declared.multipliedReportingOverflow(by: dtype.size) != (bytes.count, false) {
            throw CheckpointError("tensor '\(name)': storage '\(ref.storage.key)' should hold \(declared) elements "
                + "but has \(bytes.count) bytes of \(dtype.rawValue)")
        }
        if ref.storage.elementOffset > 0 {
            let skip = ref.storage.elementOffset * dtype.size
            guard skip <= bytes.count else { throw CheckpointError("tensor '\(name)': storage view offset beyond its storage") }
            bytes = bytes.dropFirst(skip)
        }
        let data = try materialize(storage: bytes, dtype: dtype, offset: ref.offset, shape: ref.shape, strides: ref.strides, name: name)
        return try CheckpointTensor(name: name, dtype: dtype, shape: ref.shape, data: data)
    }

    /// Counts a tensor's bytes against the expansion budget (see `maxExpansion`).
    private mutating func spend(_ bytes: Int, from source: String, sourceBytes count: Int, name: String) throws {
        if sources.insert(source).inserted { sourceBytes += count }
        tensorBytes += bytes
        let budget = Self.maxExpansion * sourceBytes + Self.expansionSlack
        guard tensorBytes <= budget else {
            throw CheckpointError("tensor '\(name)' would take the checkpoint's tensors to \(tensorBytes) bytes from "
                + "\(sourceBytes) bytes of storages and arrays; views or shared containers that repeat data this much "
                + "(stride-0 views, one array under many names) are refused")
        }
    }

    /// A numpy array: byte-swapped if big-endian, reordered if Fortran-ordered.
    private func tensor(_ array: NumpyArray, name: String) throws -> CheckpointTensor {
        guard let numpyDType = array.dtype, var bytes = array.data else {
            throw CheckpointError("numpy array '\(name)' was never given its state (shape, dtype, data)")
        }
        let dtype: DType
        do { dtype = try numpyDType.dtype() } catch let error as CheckpointError {
            throw CheckpointError("array '\(name)': \(error.reason)")
        }
        let count = try elementCount(array.shape, name: name)
        guard bytes.count == count * dtype.size else {
            throw CheckpointError("array '\(name)': shape \(array.shape) of \(numpyDType.code) needs \(count * dtype.size) bytes, "
                + "the pickle holds \(bytes.count)")
        }
        if numpyDType.byteOrder == ">", dtype.size > 1 {
            var swapped = Data(bytes)
            swapped.withUnsafeMutableBytes { raw in
                for start in stride(from: 0, to: raw.count, by: dtype.size) {
                    raw[start..<(start + dtype.size)].reverse()
                }
            }
            bytes = swapped
        }
        if array.isFortranOrder, array.shape.count > 1 {
            // Fortran order: the first axis varies fastest.
            var strides = [Int](repeating: 1, count: array.shape.count)
            for axis in 1..<array.shape.count { strides[axis] = strides[axis - 1] * array.shape[axis - 1] }
            bytes = try materialize(storage: bytes, dtype: dtype, offset: 0, shape: array.shape, strides: strides, name: name)
        }
        return try CheckpointTensor(name: name, dtype: dtype, shape: array.shape, data: bytes)
    }
}
