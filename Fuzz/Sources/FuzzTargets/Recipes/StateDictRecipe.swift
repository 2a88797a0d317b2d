import Foundation

/// A torch-style checkpoint pickle built from a recipe: tensors over storages with hostile offsets, shapes and
/// strides (stride-0 views included), numpy arrays, nested containers that share children through the memo,
/// and scalar metadata. Every opcode sequence is valid; the values are what lie.
struct StateDictRecipe {
    struct Storage {
        var key: String
        var typeName: String
        var elementSize: Int
        /// Bytes actually stored for it (may disagree with the numel its persistent id claims).
        var bytes: [UInt8]
    }

    private(set) var storages: [Storage] = []
    private(set) var pickle = PickleWriter()
    /// Whether tensors (persistent ids) may be emitted: only the torch formats have storages.
    private let torch: Bool
    /// Legacy persistent ids may carry view_metadata.
    private let legacyViews: Bool
    private var memoized: [Int] = []

    static let storageTypes: [(String, Int)] = [("FloatStorage", 4), ("HalfStorage", 2), ("DoubleStorage", 8),
                                                ("LongStorage", 8), ("ByteStorage", 1), ("BoolStorage", 1),
                                                ("BFloat16Storage", 2), ("UntypedStorage", 1), ("CharStorage", 1)]
    static let numpyCodes = ["f4", "f2", "f8", "i8", "i4", "i2", "i1", "u1", "b1", "c8", "O", ""]

    init(_ r: inout Recipe, torch: Bool, legacyViews: Bool = false) {
        self.torch = torch
        self.legacyViews = legacyViews
        if r.bool() { pickle.orderedDict() } else { pickle.op(0x7D) }  // EMPTY_DICT
        _ = pickle.put()
        let entries = 1 + r.count(5)
        pickle.mark()
        for i in 0..<entries {
            pickle.string(r.choose(8) == 0 ? "dup" : "layer\(i).weight")
            value(&r, depth: 0)
        }
        pickle.op(0x75)  // SETITEMS
        pickle.stop()
    }

    private mutating func value(_ r: inout Recipe, depth: Int) {
        let kinds = torch ? 7 : 6
        switch depth >= 4 ? 0 : r.choose(kinds) {
        case 0: scalar(&r)
        case 1:  // dict
            pickle.op(0x7D)
            pickle.mark()
            for i in 0..<r.count(3) { pickle.string("k\(i)"); value(&r, depth: depth + 1) }
            pickle.op(0x75)
        case 2:  // list
            pickle.op(0x5D)
            pickle.mark()
            for _ in 0..<r.count(3) { value(&r, depth: depth + 1) }
            pickle.op(0x65)  // APPENDS
        case 3:  // a list repeating an earlier memoized value: nested, this doubles the tree a walker sees
            if let shared = memoized.last {
                pickle.op(0x5D)
                pickle.mark()
                for _ in 0..<(2 + r.count(2)) { pickle.get(r.bool() ? shared : memoized[r.choose(memoized.count)]) }
                pickle.op(0x65)
            } else {
                scalar(&r)
            }
        case 4, 5: numpyArray(&r)
        default: tensor(&r)
        }
        if r.choose(3) == 0 { memoized.append(pickle.put()) }
    }

    private mutating func scalar(_ r: inout Recipe) {
        switch r.choose(5) {
        case 0: pickle.int(r.lie(1))
        case 1: pickle.string(r.pick(["epoch", "", "é", "a.b", "\u{0}"]))
        case 2: pickle.op(0x47); pickle.bytes_(8, &r)  // BINFLOAT
        case 3: pickle.bool(r.bool())
        default: pickle.none()
        }
    }

    private mutating func shape(_ r: inout Recipe) -> [Int] {
        (0..<r.count(4)).map { _ in r.lie(1 + r.count(6)) }
    }

    private mutating func numpyArray(_ r: inout Recipe) {
        pickle.global(r.bool() ? "numpy.core.multiarray" : "numpy._core.multiarray", "_reconstruct")
        pickle.mark()
        pickle.global("numpy", "ndarray")
        pickle.ints([0])
        pickle.binBytes([0x62])
        pickle.tuple()
        pickle.reduce()

        let shape = shape(&r)
        let code = r.choose(4) == 0 ? r.pick(Self.numpyCodes) : "f4"
        let size = ["f8": 8, "i8": 8, "f4": 4, "i4": 4, "f2": 2, "i2": 2][code] ?? 1
        let honest = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue } &* size
        let length = max(0, min(1 << 12, r.lie(honest)))

        pickle.mark()
        pickle.int(1)
        pickle.ints(shape)
        pickle.global("numpy", "dtype")
        pickle.mark(); pickle.string(code); pickle.bool(false); pickle.bool(true); pickle.tuple()
        pickle.reduce()
        pickle.mark()
        pickle.int(3); pickle.string(r.pick(["<", ">", "|", "="])); pickle.none(); pickle.none(); pickle.none()
        pickle.int(-1); pickle.int(-1); pickle.int(0)
        pickle.tuple()
        pickle.build()
        pickle.bool(r.choose(4) == 0)  // Fortran order
        pickle.binBytes((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        pickle.tuple()
        pickle.build()
    }

    private mutating func tensor(_ r: inout Recipe) {
        // A new storage, or a view of one already made (several tensors sharing a storage, as real ones do).
        let storageIndex: Int
        if storages.isEmpty || r.choose(3) == 0 {
            let (typeName, elementSize) = r.choose(3) == 0 ? r.pick(Self.storageTypes) : ("FloatStorage", 4)
            let numel = r.count(64)
            let byteCount = max(0, min(1 << 14, r.lie(numel * elementSize)))
            storages.append(Storage(key: "\(storages.count)", typeName: typeName, elementSize: elementSize,
                                    bytes: (0..<byteCount).map { UInt8(truncatingIfNeeded: $0) }))
        }
        storageIndex = r.choose(storages.count)
        let storage = storages[storageIndex]
        let numel = storage.bytes.count / max(1, storage.elementSize)

        let shape = shape(&r)
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] &* shape[axis + 1] }
        if r.choose(3) == 0 { strides = strides.map { r.choose(3) == 0 ? 0 : r.lie($0) } }  // stride-0 and lying views

        let parameter = r.choose(4) == 0  // wrapped as an nn.Parameter, as model.state_dict() keeps them
        if parameter {
            pickle.global("torch._utils", "_rebuild_parameter")
            pickle.mark()
        }
        pickle.global("torch._utils", r.choose(4) == 0 ? "_rebuild_tensor" : "_rebuild_tensor_v2")
        pickle.mark()
        pickle.mark()
        pickle.string("storage")
        pickle.global("torch", storage.typeName)
        pickle.string(storage.key)
        pickle.string("cpu")
        pickle.int(r.lie(numel))
        if legacyViews, r.choose(4) == 0 {
            pickle.mark(); pickle.string(storage.key); pickle.int(r.lie(0)); pickle.int(r.lie(numel)); pickle.tuple()
        }
        pickle.tuple()
        pickle.op(0x51)  // BINPERSID
        pickle.int(r.lie(0))
        pickle.ints(shape)
        pickle.ints(strides)
        pickle.bool(false)
        pickle.orderedDict()
        pickle.tuple()
        pickle.reduce()
        if parameter {  // (tensor, requires_grad, backward_hooks) for _rebuild_parameter
            pickle.bool(true)
            pickle.orderedDict()
            pickle.tuple()
            pickle.reduce()
        }
    }
}

extension PickleWriter {
    /// `n` raw recipe bytes.
    mutating func bytes_(_ n: Int, _ r: inout Recipe) { for _ in 0..<n { op(r.byte()) } }
}
