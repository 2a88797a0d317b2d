import Foundation

/// A value the restricted unpickler built. Containers live in `PickleGraph.objects` and are referred to by index,
/// so a hostile pickle can nest or cycle as it likes without recursion (or a stack overflow) on the Swift side.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for Int (LONG1/LONG4), kept as little-endian two's-complement bytes.
    case bigInt(Data)
    case float(Double)
    case string(String)
    case bytes(Data)
    /// An allow-listed callable or class (GLOBAL / STACK_GLOBAL).
    case global(PickleGlobal)
    /// Index into `PickleGraph.objects`.
    case object(Int)

    /// A short description for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .global(let global): return "global '\(global.qualifiedName)'"
        case .object: return "object"
        }
    }
}

/// A mutable container or rebuilt object, stored in the graph's arena.
enum PickleObject {
    case tuple([PickleValue])
    case list([PickleValue])
    case dict(PickleDict)
    /// A PyTorch storage named by a persistent id; its bytes come from the file's storage records.
    case storage(StorageRef)
    /// A tensor view of a storage, from torch._utils._rebuild_tensor_v2.
    case tensor(TensorRef)
    /// A numpy array from _reconstruct; filled in by BUILD.
    case ndarray(NumpyArray)
    /// A numpy dtype from numpy.dtype(code); its byte order is set by BUILD.
    case numpyDType(NumpyDType)

    var kind: String {
        switch self {
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .storage: return "storage"
        case .tensor: return "tensor"
        case .ndarray: return "numpy array"
        case .numpyDType: return "numpy dtype"
        }
    }
}

/// An insertion-ordered dict; string and integer keys are indexed so SETITEM stays O(1).
struct PickleDict {
    private(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var index: [String: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        let hashKey: String?
        switch key {
        case .string(let s): hashKey = "s" + s
        case .int(let i): hashKey = "i\(i)"
        default: hashKey = nil
        }
        if let hashKey, let position = index[hashKey] {
            items[position].value = value
            return
        }
        if let hashKey { index[hashKey] = items.count }
        items.append((key, value))
    }
}

/// A storage as a persistent id names it: the key of its bytes in the file, and its element type.
struct StorageRef {
    var key: String
    var dtype: DType
    /// Elements to skip at the start of the stored bytes (legacy view_metadata).
    var elementOffset = 0
    /// Elements the persistent id claims, when it says (checked against the stored bytes).
    var declaredCount: Int?
}

/// A strided view of a storage: offsets and strides count elements.
struct TensorRef {
    var storage: StorageRef
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// A numpy array as `ndarray.__setstate__` receives it.
struct NumpyArray {
    var shape: [Int] = []
    var dtype: NumpyDType?
    var isFortranOrder = false
    var data: Data?
}

/// A numpy dtype: its code ('f4', 'i8', ...) and byte order ('<', '>', '|', '=').
struct NumpyDType {
    var code: String
    var byteOrder: Character = "="

    /// The checkpoint dtype for this numpy dtype, or an error naming it.
    func dtype() throws -> DType {
        switch code {
        case "f4": return .f32
        case "f2": return .f16
        case "f8": return .f64
        case "i8": return .i64
        case "i4": return .i32
        case "i2": return .i16
        case "i1": return .i8
        case "u1": return .u8
        case "b1": return .bool
        default: throw TensorProblem.unsupportedNumpyDType(String(code.prefix(40)))
        }
    }
}

/// Everything one pickle built: the root value and the arena its objects live in.
struct PickleGraph {
    var root: PickleValue
    var objects: [PickleObject]

    func object(_ value: PickleValue) -> PickleObject? {
        if case .object(let index) = value { return objects[index] }
        return nil
    }

    /// The items of a tuple or list value.
    func sequence(_ value: PickleValue) -> [PickleValue]? {
        switch object(value) {
        case .tuple(let items)?, .list(let items)?: return items
        default: return nil
        }
    }
}
