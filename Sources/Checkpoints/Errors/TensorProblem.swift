/// What is inconsistent about one tensor (the enclosing `CheckpointError.tensor` names it).
public enum TensorProblem: Error, Equatable, Sendable {
    case negativeDimension(shape: [Int])
    /// The product of the dimensions overflows or exceeds `limit` elements.
    case tooManyElements(shape: [Int], limit: Int)
    /// `shape` of `dtype` needs `needed` bytes (nil: more than Int can count) but `stored` are there.
    case byteCountMismatch(shape: [Int], dtype: String, needed: Int?, stored: Int)
    case stridesDoNotMatchShape(strides: Int, dimensions: Int)
    case negativeStorageOffset(Int)
    case negativeStride(strides: [Int])
    case stridesOverflow(strides: [Int])
    /// The view's last element lies beyond the storage.
    case viewOutsideStorage(shape: [Int], strides: [Int], offset: Int, lastElement: Int, storageElements: Int, dtype: String)
    /// The view expands its storage (stride 0 or overlapping strides) beyond what the file's storages justify.
    case viewTooLarge(shape: [Int], strides: [Int], bytes: Int?, limit: Int)
    /// The persistent id's element count disagrees with the stored bytes.
    case storageSizeMismatch(storage: String, declared: Int, bytes: Int, dtype: String)
    case storageViewOffsetOutside(storage: String, offset: Int)
    /// A numpy array whose BUILD state never came.
    case arrayWithoutState
    case unsupportedNumpyDType(String)
    /// NaN or infinite values (`count` of `total`).
    case nonFinite(count: Int, total: Int)

    public var description: String {
        switch self {
        case .negativeDimension(let shape): return "negative dimension in shape \(shape)"
        case let .tooManyElements(shape, limit):
            return "shape \(shape) has too many elements (the product overflows or exceeds \(limit)); the file is corrupt"
        case let .byteCountMismatch(shape, dtype, needed, stored):
            return "shape \(shape) of \(dtype) needs \(needed.map(String.init) ?? "more than 2^63") bytes but \(stored) are stored"
        case let .stridesDoNotMatchShape(strides, dimensions):
            return "\(strides) strides for the \(dimensions) dimensions of its shape"
        case .negativeStorageOffset(let offset): return "negative storage offset \(offset)"
        case .negativeStride(let strides): return "negative stride in \(strides)"
        case .stridesOverflow(let strides): return "strides \(strides) overflow"
        case let .viewOutsideStorage(shape, strides, offset, last, elements, dtype):
            return "shape \(shape) with strides \(strides) at offset \(offset) reaches element \(last) of a storage "
                + "holding \(elements) \(dtype) elements"
        case let .viewTooLarge(shape, strides, bytes, limit):
            return "shape \(shape) with strides \(strides) expands its storage to "
                + "\(bytes.map { "\($0) bytes" } ?? "more than 2^63 bytes"), beyond the \(limit) bytes the file's storages "
                + "justify (4x their size plus 1 MiB); stride-0 or overlapping views this large are refused. "
                + "Save the tensor contiguously (tensor.contiguous().clone()) if it is meant to be this big"
        case let .storageSizeMismatch(storage, declared, bytes, dtype):
            return "storage '\(storage)' should hold \(declared) elements but has \(bytes) bytes of \(dtype)"
        case let .storageViewOffsetOutside(storage, offset):
            return "view offset \(offset) lies beyond the end of storage '\(storage)'"
        case .arrayWithoutState: return "numpy array was never given its state (shape, dtype, data)"
        case .unsupportedNumpyDType(let code):
            return "numpy dtype '\(code)' is not supported (supported: f4 f2 f8 i8 i4 i2 i1 u1 b1)"
        case let .nonFinite(count, total):
            return "\(count) of its \(total) values are NaN or infinite; the weights are broken (re-export them from a "
                + "healthy model)"
        }
    }
}
