import FileOutput
import Foundation

/// Reads and writes the safetensors format, validating it as strictly as the reference implementation.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON
/// `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}` padded with spaces,
/// then the data buffer that the offsets (relative to its start) cover exactly, without gaps or overlaps.
public enum SafeTensors {
    /// Headers above this size are refused (as the reference implementation does) rather than parsed.
    public static let maxHeaderBytes = 100_000_000

    /// Reads a safetensors file (memory-mapped; tensors are slices of the mapping).
    public static func read(path: String) throws -> Checkpoint {
        try withFileName(path) { try read(mapFile(path)) }
    }

    /// Parses safetensors bytes.
    public static func read(_ data: Data) throws -> Checkpoint {
        var reader = ByteReader(data)
        let headerLength = try reader.u64("the safetensors header length")
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw CheckpointError.safetensors(.headerTooLarge(headerLength, limit: maxHeaderBytes))
        }
        // headerLength <= maxHeaderBytes: the conversion cannot trap.
        let length = Int(truncatingIfNeeded: headerLength)
        guard length <= reader.remaining else {
            throw CheckpointError.safetensors(.headerTruncated(claimed: headerLength, available: reader.remaining))
        }
        let headerBytes = try reader.bytes(length, "the safetensors header")
        guard headerBytes.first == UInt8(ascii: "{"), case .object(let header) = try HeaderJSONParser.parse(headerBytes) else {
            throw CheckpointError.safetensors(.notAnObject)
        }
        let buffer = data[(data.startIndex + 8 + length)...]

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard case .object(let dict) = value else { throw CheckpointError.safetensors(.metadataNotStrings(key: nil)) }
                for (key, item) in dict {
                    guard case .string(let string) = item else { throw CheckpointError.safetensors(.metadataNotStrings(key: key)) }
                    metadata[key] = string
                }
                continue
            }
            guard case .object(let fields) = value else { throw CheckpointError.safetensors(.entryNotAnObject(tensor: name)) }
            let info = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            let unknownKeys = Set(info.keys).subtracting(["dtype", "shape", "data_offsets"])
            guard unknownKeys.isEmpty else {
                throw CheckpointError.safetensors(.unknownFields(tensor: name, fields: unknownKeys.sorted()))
            }
            guard case .string(let dtypeName)? = info["dtype"] else { throw CheckpointError.safetensors(.missingDType(tensor: name)) }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CheckpointError.safetensors(.unknownDType(tensor: name, dtype: String(dtypeName.prefix(40))))
            }
            guard let shape = integers(info["shape"]) else { throw CheckpointError.safetensors(.badShape(tensor: name)) }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw CheckpointError.safetensors(.badOffsets(tensor: name))
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else { throw CheckpointError.safetensors(.offsetsReversed(tensor: name, begin: begin, end: end)) }
            guard end <= buffer.count else {
                throw CheckpointError.safetensors(.offsetsOutside(tensor: name, begin: begin, end: end, buffer: buffer.count))
            }
            let needed = try tensorByteCount(shape, dtype, name: name)
            guard needed == end - begin else {
                throw CheckpointError.safetensors(.bytesDisagree(tensor: name, shape: shape, dtype: dtypeName, needed: needed,
                                                                 begin: begin, end: end))
            }
            entries.append((name, dtype, shape, begin, end))
        }

        // The offsets must tile the buffer exactly: sorted by begin, each starts where the last ended.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous = ""
        for entry in entries {
            if entry.begin < covered {
                throw CheckpointError.safetensors(.overlap(tensor: entry.name, begin: entry.begin, end: entry.end,
                                                           previous: previous, previousEnd: covered))
            }
            if entry.begin > covered {
                throw CheckpointError.safetensors(.gap(tensor: entry.name, bytes: entry.begin - covered, begin: entry.begin,
                                                       end: entry.end))
            }
            covered = entry.end
            previous = entry.name
        }
        guard covered == buffer.count else {
            throw CheckpointError.safetensors(.coverage(covered: covered, buffer: buffer.count))
        }
        let tensors = try entries.map { entry in
            let start = buffer.startIndex + entry.begin
            return try CheckpointTensor(name: entry.name, dtype: entry.dtype, shape: entry.shape,
                                        data: buffer[start..<(buffer.startIndex + entry.end)])
        }
        return try Checkpoint(format: .safetensors, tensors: tensors, metadata: metadata)
    }

    /// The file bytes for `checkpoint`: metadata first, tensors in name order, header padded with spaces to 8 bytes.
    public static func encode(_ checkpoint: Checkpoint) -> Data {
        var json = "{"
        var parts: [String] = []
        if !checkpoint.metadata.isEmpty {
            let items = checkpoint.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for tensor in checkpoint.tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + tensor.byteCount)]}")
            offset += tensor.byteCount
        }
        json += parts.joined(separator: ",") + "}"
        var header = Data(json.utf8)
        header.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8))
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(header)
        for tensor in checkpoint.tensors { out.append(tensor.data) }
        return out
    }

    /// Writes `checkpoint` to `path` atomically (temporary file in the same directory, then rename).
    public static func write(_ checkpoint: Checkpoint, to path: String) throws {
        let data = encode(checkpoint)
        do { try AtomicFile.write(data, to: URL(fileURLWithPath: path)) } catch let error as FileWriteError {
            throw CheckpointError.inFile(fileName(path), .file(.writeFailed(error)))
        }
    }

    /// A JSON array of non-negative integers (fractions, exponents, negative or oversized numbers: nil).
    private static func integers(_ value: HeaderJSON?) -> [Int]? {
        guard case .array(let items)? = value else { return nil }
        var result: [Int] = []
        for item in items {
            guard case .integer(let integer) = item, integer >= 0 else { return nil }
            result.append(integer)
        }
        return result
    }
}

/// A JSON string literal with the escapes JSON requires.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
