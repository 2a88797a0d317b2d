/// The only globals a checkpoint pickle may name. Each maps to a Swift constructor in `Unpickler.call`;
/// nothing from the pickle is ever executed, and any other global is refused before anything is built.
enum PickleGlobal: Equatable {
    case orderedDict
    case set
    case tuple
    case rebuildTensor          // torch._utils._rebuild_tensor_v2 / _rebuild_tensor
    case rebuildParameter       // torch._utils._rebuild_parameter(_with_state)
    case storageType(DType)     // torch.FloatStorage ..., torch.UntypedStorage
    case numpyReconstruct       // numpy.core.multiarray._reconstruct
    case numpyNDArray           // numpy.ndarray (the class _reconstruct is given)
    case numpyDType             // numpy.dtype
    case numpyScalar            // numpy.core.multiarray.scalar
    case numpyFromBuffer        // numpy.core.numeric._frombuffer: how protocol 5 pickles arrays
    case codecsEncode           // _codecs.encode(str, 'latin1'): how protocol-2 pickles spell bytes

    /// The allow-list: `module.name` -> constructor.
    private static let allowed: [String: PickleGlobal] = {
        var table: [String: PickleGlobal] = [
            "collections.OrderedDict": .orderedDict,
            "builtins.set": .set, "builtins.frozenset": .set, "__builtin__.set": .set, "__builtin__.frozenset": .set,
            "torch.Size": .tuple,
            "torch._utils._rebuild_tensor_v2": .rebuildTensor, "torch._utils._rebuild_tensor": .rebuildTensor,
            "torch._utils._rebuild_parameter": .rebuildParameter,
            "torch._utils._rebuild_parameter_with_state": .rebuildParameter,
            "torch.UntypedStorage": .storageType(.u8),
            "numpy.ndarray": .numpyNDArray, "numpy.dtype": .numpyDType,
            "_codecs.encode": .codecsEncode,
        ]
        for module in ["numpy.core.multiarray", "numpy._core.multiarray"] {
            table[module + "._reconstruct"] = .numpyReconstruct
            table[module + ".scalar"] = .numpyScalar
        }
        for module in ["numpy.core.numeric", "numpy._core.numeric"] { table[module + "._frombuffer"] = .numpyFromBuffer }
        let storages: [(String, DType)] = [
            ("Float", .f32), ("Half", .f16), ("BFloat16", .bf16), ("Double", .f64), ("Long", .i64),
            ("Int", .i32), ("Short", .i16), ("Char", .i8), ("Byte", .u8), ("Bool", .bool),
        ]
        for (prefix, dtype) in storages { table["torch.\(prefix)Storage"] = .storageType(dtype) }
        return table
    }()

    /// The constructor for `module.name`, or an error naming the refused global.
    static func resolve(module: String, name: String) throws -> PickleGlobal {
        let qualified = "\(module).\(name)"
        guard let global = allowed[qualified] else {
            // Nothing the global names is ever looked up or run; a line of megabytes is cut short for the message.
            throw CheckpointError.refusedGlobal(qualified.count > 200 ? String(qualified.prefix(200)) + "..." : qualified)
        }
        return global
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .set: return "builtins.set"
        case .tuple: return "torch.Size"
        case .rebuildTensor: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .storageType(let dtype): return "torch storage type (\(dtype.rawValue))"
        case .numpyReconstruct: return "numpy.core.multiarray._reconstruct"
        case .numpyNDArray: return "numpy.ndarray"
        case .numpyDType: return "numpy.dtype"
        case .numpyScalar: return "numpy.core.multiarray.scalar"
        case .numpyFromBuffer: return "numpy.core.numeric._frombuffer"
        case .codecsEncode: return "_codecs.encode"
        }
    }
}
