/// A protobuf wire-format violation (ONNX files).
public enum ProtobufProblem: Equatable, Sendable {
    case invalidWireType(Int, offset: Int)
    case invalidFieldNumber(UInt64)
    case varintOverflow(offset: Int)
    case varintTooLong(offset: Int)
    case fieldTruncated(length: UInt64, offset: Int, remaining: Int)
    case groups
    case wrongWireType(field: String, wireType: Int)
    case packedLength(bytes: Int, width: Int)

    public var description: String {
        switch self {
        case let .invalidWireType(type, offset): return "invalid wire type \(type) at offset \(offset)"
        case .invalidFieldNumber(let n): return "invalid field number \(n)"
        case .varintOverflow(let offset): return "varint overflows 64 bits at offset \(offset)"
        case .varintTooLong(let offset): return "varint longer than 10 bytes at offset \(offset)"
        case let .fieldTruncated(length, offset, remaining):
            return "truncated: a field of \(length) bytes at offset \(offset) but only \(remaining) remain"
        case .groups: return "deprecated groups are not supported"
        case let .wrongWireType(field, wireType): return "\(field) field with wire type \(wireType)"
        case let .packedLength(bytes, width): return "packed field of \(bytes) bytes is not a multiple of \(width)"
        }
    }
}

/// What is wrong with an ONNX model or one of its initializers.
public enum ONNXProblem: Equatable, Sendable {
    case noGraph
    case externalData
    case unsupportedDataType(Int64)
    case negativeDimension(dims: [Int64])
    /// A dimension above 2^31 - 1, or a product beyond what any tensor may hold.
    case hugeDimensions(dims: [Int64])
    /// The dims need more bytes than the whole file holds.
    case moreThanTheFile(dims: [Int64], bytes: Int?, fileBytes: Int)
    /// A graph node (named by its name, else its first output) that breaks the format: `what` says how.
    case badNode(node: String, what: String)
    /// A graph input or output (ValueInfoProto) that breaks the format.
    case badValueInfo(name: String, what: String)
    /// More `what` than any real model has (a corrupt count, or a crafted file).
    case tooMany(what: String, count: Int, limit: Int)

    func description(initializer name: String) -> String {
        switch self {
        case .noGraph: return "ONNX model has no graph (field 7)"
        case .externalData:
            return "initializer '\(name)' keeps its data in an external file; this reader needs the weights inside the .onnx "
                + "(re-save with onnx.save_model(..., save_as_external_data=False))"
        case .unsupportedDataType(let type): return "initializer '\(name)' has ONNX data type \(type), which is not supported"
        case .negativeDimension(let dims):
            return "initializer '\(name)' has a negative dimension in dims \(dims); the file is corrupt"
        case .hugeDimensions(let dims):
            return "initializer '\(name)' has dims \(dims): a dimension above 2^31-1 or a product that overflows; the file is corrupt"
        case let .moreThanTheFile(dims, bytes, fileBytes):
            return "initializer '\(name)' has dims \(dims) needing \(bytes.map(String.init) ?? "more than 2^63") bytes, more than "
                + "the file's \(fileBytes); the file is corrupt"
        case let .badNode(node, what): return "ONNX node '\(node)': \(what)"
        case let .badValueInfo(value, what): return "ONNX graph value '\(value)': \(what)"
        case let .tooMany(what, count, limit):
            return "ONNX graph has \(count) \(what), more than the \(limit) this reader accepts; the file is corrupt or crafted"
        }
    }
}

/// What is wrong with a zip archive (PyTorch >= 1.6 .pth files).
public enum ZipProblem: Equatable, Sendable {
    case tooShort(bytes: Int)
    case noEndRecord
    case zip64(String)
    case multiDisk
    case directoryOutsideFile(offset: Int, size: Int, fileBytes: Int)
    case badDirectorySignature(entry: Int)
    /// The end record's entry count disagrees with what the directory holds.
    case directoryCount(claimed: Int, found: String)
    case directorySize(claimed: Int, actual: Int)
    case duplicateName(String)
    case compressed(entry: String, method: Int)
    case sizesDisagree(entry: String)
    case badLocalHeader(entry: String, offset: Int)
    /// The local header's `field` differs from the central directory's.
    case localMismatch(entry: String, field: String, central: String, local: String)
    /// Two entries' headers and data overlap each other, or an entry overlaps the central directory.
    case overlap(entry: String, other: String)
    case entryOutsideFile(entry: String)

    public var description: String {
        switch self {
        case .tooShort(let n): return "truncated: too short for a zip file (\(n) bytes)"
        case .noEndRecord: return "zip end-of-central-directory record not found: the file is truncated or not a zip"
        case .zip64(let what): return "corrupt zip: \(what)"
        case .multiDisk: return "corrupt zip: the end record describes a multi-disk archive, which torch.save never writes"
        case let .directoryOutsideFile(offset, size, fileBytes):
            return "truncated: zip central directory [\(offset), +\(size)] lies outside the \(fileBytes)-byte file"
        case .badDirectorySignature(let i):
            return "corrupt zip: bad central directory entry signature at entry \(i); the end record's count or offset lies"
        case let .directoryCount(claimed, found):
            return "corrupt zip: the end record claims \(claimed) entries but the central directory \(found)"
        case let .directorySize(claimed, actual):
            return "corrupt zip: the end record claims a \(claimed)-byte central directory but its entries take \(actual)"
        case .duplicateName(let name): return "corrupt zip: two entries are named '\(name)'"
        case let .compressed(entry, method):
            return "zip entry '\(entry)' is compressed (method \(method)); only stored entries are supported, as torch.save "
                + "writes them. Re-save with torch.save, or unzip and re-zip with 'zip -0'"
        case .sizesDisagree(let entry): return "zip entry '\(entry)': stored sizes disagree"
        case let .badLocalHeader(entry, offset):
            return "corrupt zip: the central directory points '\(entry)' at offset \(offset), where there is no local header"
        case let .localMismatch(entry, field, central, local):
            return "corrupt zip: entry '\(entry)': the central directory says \(field) \(central), its local header says \(local)"
        case let .overlap(entry, other):
            return "corrupt zip: entry '\(entry)' overlaps \(other); the archive is corrupt or crafted"
        case .entryOutsideFile(let entry): return "truncated: zip entry '\(entry)' runs past the end of the file"
        }
    }
}

/// What is wrong with a safetensors header.
public enum SafeTensorsProblem: Equatable, Sendable {
    case headerTooLarge(UInt64, limit: Int)
    case headerTruncated(claimed: UInt64, available: Int)
    case notAnObject
    case invalidJSON(offset: Int, what: String)
    case duplicateKey(String)
    case metadataNotStrings(key: String?)
    case entryNotAnObject(tensor: String)
    case unknownFields(tensor: String, fields: [String])
    case missingDType(tensor: String)
    case unknownDType(tensor: String, dtype: String)
    case badShape(tensor: String)
    case badOffsets(tensor: String)
    case offsetsReversed(tensor: String, begin: Int, end: Int)
    case offsetsOutside(tensor: String, begin: Int, end: Int, buffer: Int)
    case bytesDisagree(tensor: String, shape: [Int], dtype: String, needed: Int, begin: Int, end: Int)
    case overlap(tensor: String, begin: Int, end: Int, previous: String, previousEnd: Int)
    case gap(tensor: String, bytes: Int, begin: Int, end: Int)
    case coverage(covered: Int, buffer: Int)

    public var description: String {
        switch self {
        case let .headerTooLarge(n, limit):
            return "safetensors header of \(n) bytes exceeds the \(limit)-byte limit; the file is corrupt or not safetensors"
        case let .headerTruncated(claimed, available):
            return "truncated: the safetensors header claims \(claimed) bytes but only \(available) follow the length field"
        case .notAnObject: return "safetensors header is not a JSON object (it must start with '{')"
        case let .invalidJSON(offset, what): return "safetensors header is not valid JSON: \(what) at header byte \(offset)"
        case .duplicateKey(let key): return "safetensors header names '\(key)' twice; each key must be unique"
        case .metadataNotStrings(let key):
            return key.map { "safetensors __metadata__ value for '\($0)' is not a string" }
                ?? "safetensors __metadata__ is not an object of strings"
        case .entryNotAnObject(let t): return "tensor '\(t)': entry is not an object"
        case let .unknownFields(t, fields): return "tensor '\(t)': unknown fields \(fields)"
        case .missingDType(let t): return "tensor '\(t)': missing dtype"
        case let .unknownDType(t, dtype):
            return "tensor '\(t)': unknown dtype '\(dtype)' (known: " + DType.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .badShape(let t): return "tensor '\(t)': shape is not a list of non-negative integers"
        case .badOffsets(let t): return "tensor '\(t)': data_offsets is not a pair of non-negative integers"
        case let .offsetsReversed(t, begin, end): return "tensor '\(t)': data_offsets [\(begin), \(end)] end before they begin"
        case let .offsetsOutside(t, begin, end, buffer):
            return "tensor '\(t)': data_offsets [\(begin), \(end)] lie outside the \(buffer)-byte data buffer (the file is "
                + "truncated or the header is wrong)"
        case let .bytesDisagree(t, shape, dtype, needed, begin, end):
            return "tensor '\(t)': shape \(shape) of \(dtype) needs \(needed) bytes but data_offsets [\(begin), \(end)] span \(end - begin)"
        case let .overlap(t, begin, end, previous, previousEnd):
            return "tensor '\(t)': data_offsets [\(begin), \(end)] overlap the previous tensor '\(previous)' (ending at \(previousEnd))"
        case let .gap(t, bytes, begin, end): return "tensor '\(t)': gap of \(bytes) bytes before data_offsets [\(begin), \(end)]"
        case let .coverage(covered, buffer):
            return "the tensors cover \(covered) bytes but the data buffer holds \(buffer); the file is truncated or has trailing bytes"
        }
    }
}
