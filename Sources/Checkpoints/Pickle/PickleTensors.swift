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
    /// Bytes of the distinct storages the tensors so far were cut from, and of those tensors.
    private var storageBytesSeen: [String: Int] = [:]
    private var storageTotal = 0
    private var tensorTotal = 0
    /// Objects visited so far. A tree visits each object once; shared sub-trees (memo references) could make a
    /// 300-byte pickle of nested pairs (l, l) take 2^depth visits, so visits beyond twice the objects (tied weights
    /// are shared too) plus a slack are refused.
    private var visits = 0
    private var maxVisits: Int { 2 * graph.objects.count + 1024 }

    /// Views may repeat storage elements (stride 0, overlapping strides), but all tensors together may take at most
    /// this many times their storages' bytes, plus `viewSlack`: a 10 MB file cannot expand to gigabytes.
    static let viewExpansion = 4
    static let viewSlack = 1 << 20

    /// Collects every tensor reachable from the graph's root.
    static func collect(_ graph: PickleGraph, storageBytes: @escaping (StorageRef) throws -> Data = { _ in
        throw CheckpointError.torch(.storageWithoutStorages)
    }) throws -> (tensors: [CheckpointTensor], metadata: [String: String]) {
        var walker = PickleTensors(graph: graph, storageBytes: storageBytes)
        try walker.visit(graph.root, name: "", depth: 0)
        return (walker.tensors, walker.metadata)
    }

    private mutating func visit(_ value: PickleValue, name: String, depth: Int) throws {
        guard depth <= Self.maxDepth else {
            throw CheckpointError.torch(.nestsTooDeep(name: String(name.prefix(200)), limit: Self.maxDepth))
        }
        func child(_ key: String) -> String { name.isEmpty ? key : "\(name).\(key)" }
        switch value {
        case .object(let index):
            visits += 1
            guard visits <= maxVisits else { throw CheckpointError.torch(.tooManyReferences(limit: maxVisits)) }
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
                tensors.append(try tensor(ref, name: name.isEmpty ? "tensor" : name))
            case .ndarray(let array):
                tensors.append(try tensor(array, name: name.isEmpty ? "array" : name, object: index))
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
        if let declared = ref.storage.declaredCount,
           declared.multipliedReportingOverflow(by: dtype.size) != (bytes.count, false) {
            throw CheckpointError.tensor(name, .storageSizeMismatch(storage: ref.storage.key, declared: declared,
                                                                   bytes: bytes.count, dtype: dtype.rawValue))
        }
        noteStorage("storage " + ref.storage.key, bytes: bytes.count)
        if ref.storage.elementOffset > 0 {
            let (skip, overflow) = ref.storage.elementOffset.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, skip <= bytes.count else {
                throw CheckpointError.tensor(name, .storageViewOffsetOutside(storage: ref.storage.key, offset: ref.storage.elementOffset))
            }
            bytes = bytes.dropFirst(skip)
        }
        // Bound what the view expands to before anything is allocated.
        try noteTensor(name, shape: ref.shape, strides: ref.strides, dtype: dtype)
        let data = try materialize(storage: bytes, dtype: dtype, offset: ref.offset, shape: ref.shape, strides: ref.strides, name: name)
        return try CheckpointTensor(name: name, dtype: dtype, shape: ref.shape, data: data)
    }

    /// Counts a storage's bytes once, however many tensors are cut from it.
    private mutating func noteStorage(_ key: String, bytes: Int) {
        guard storageBytesSeen[key] == nil else { return }
        storageBytesSeen[key] = bytes
        storageTotal += bytes
    }

    /// Counts a tensor's bytes, refusing it when all tensors so far outgrow their storages' bound.
    private mutating func noteTensor(_ name: String, shape: [Int], strides: [Int], dtype: DType) throws {
        let limit = Self.viewExpansion * storageTotal + Self.viewSlack
        let viewBytes = try tensorByteCount(shape, dtype, name: name)
        guard tensorTotal + viewBytes <= limit else {
            throw CheckpointError.tensor(name, .viewTooLarge(shape: shape, strides: strides, bytes: viewBytes,
                                                             limit: max(0, limit - tensorTotal)))
        }
        tensorTotal += viewBytes
    }

    /// A numpy array: byte-swapped if big-endian, reordered if Fortran-ordered. An array object reached under many
    /// names (memo references) counts once as storage but once per name as a tensor, as views do.
    private mutating func tensor(_ array: NumpyArray, name: String, object: Int) throws -> CheckpointTensor {
        guard let numpyDType = array.dtype, var bytes = array.data else {
            throw CheckpointError.tensor(name, .arrayWithoutState)
        }
        let dtype: DType
        do { dtype = try numpyDType.dtype() } catch let problem as TensorProblem {
            throw CheckpointError.tensor(name, problem)
        }
        let needed = try tensorByteCount(array.shape, dtype, name: name)
        guard bytes.count == needed else {
            throw CheckpointError.tensor(name, .byteCountMismatch(shape: array.shape, dtype: numpyDType.code, needed: needed,
                                                                  stored: bytes.count))
        }
        noteStorage("array #\(object)", bytes: bytes.count)
        try noteTensor(name, shape: array.shape, strides: contiguousStrides(array.shape), dtype: dtype)
        if numpyDType.byteOrder == ">", dtype.size > 1 {
            var swapped = Data(bytes)
            swapped.withUnsafeMutableBytes { raw in
                for start in stride(from: 0, to: raw.count, by: dtype.size) {
                    raw[start..<(start + dtype.size)].reverse()
                }
            }
            bytes = swapped
        }
        if array.isFortranOrder, array.shape.count > 1, needed > 0 {  // (empty: nothing to reorder, strides may overflow)
            // Fortran order: the first axis varies fastest.
            var strides = [Int](repeating: 1, count: array.shape.count)
            for axis in 1..<array.shape.count { strides[axis] = strides[axis - 1] * array.shape[axis - 1] }
            bytes = try materialize(storage: bytes, dtype: dtype, offset: 0, shape: array.shape, strides: strides, name: name)
        }
        return try CheckpointTensor(name: name, dtype: dtype, shape: array.shape, data: bytes)
    }
}
