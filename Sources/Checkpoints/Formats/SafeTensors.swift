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
            throw CheckpointError("safetensors header of \(headerLength) bytes exceeds the \(maxHeaderBytes)-byte limit; "
                + "the file is corrupt or not safetensors")
        }
        guard Int(headerLength) <= reader.remaining else {
            throw CheckpointError("truncated: the safetensors header claims \(headerLength) bytes but only "
                + "\(reader.remaining) follow the length field")
        }
        let headerBytes = try reader.bytes(Int(headerLength), "the safetensors header")
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw CheckpointError("safetensors header does not start with '{'")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw CheckpointError("safetensors header is not valid JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else { throw CheckpointError("safetensors header is not a JSON object") }
        let buffer = data[(data.startIndex + 8 + Int(headerLength))...]

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw CheckpointError("safetensors __metadata__ is not an object of strings")
                }
                for (key, item) in dict {
                    guard let string = item as? String else {
                        throw CheckpointError("safetensors __metadata__ value for '\(key)' is not a string")
                    }
                    metadata[key] = string
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw CheckpointError("tensor '\(name)': entry is not an object") }
            let unknownKeys = Set(info.keys).subtracting(["dtype", "shape", "data_offsets"])
            guard unknownKeys.isEmpty else { throw CheckpointError("tensor '\(name)': unknown fields \(unknownKeys.sorted())") }
            guard let dtypeName = info["dtype"] as? String else { throw CheckpointError("tensor '\(name)': missing dtype") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CheckpointError("tensor '\(name)': unknown dtype '\(dtypeName)' (known: "
                    + DType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            guard let shape = integers(info["shape"]) else {
                throw CheckpointError("tensor '\(name)': shape is not a list of non-negative integers")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw CheckpointError("tensor '\(name)': data_offsets is not a pair of non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= buffer.count else {
                throw CheckpointError("tensor '\(name)': data_offsets [\(begin), \(end)] lie outside the "
                    + "\(buffer.count)-byte data buffer")
            }
            let count = try elementCount(shape, name: name)
            guard count * dtype.size == end - begin else {
                throw CheckpointError("tensor '\(name)': shape \(shape) of \(dtypeName) needs \(count * dtype.size) bytes "
                    + "but data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }

        // The offsets must tile the buffer exactly: sorted by begin, each starts where the last ended.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        for entry in entries {
            guard entry.begin == covered else {
                throw CheckpointError(entry.begin < covered
                    ? "tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] overlap the previous tensor (ending at \(covered))"
                    : "tensor '\(entry.name)': gap of \(entry.begin - covered) bytes before data_offsets [\(entry.begin), \(entry.end)]")
            }
            covered = entry.end
        }
        guard covered == buffer.count else {
            throw CheckpointError("the tensors cover \(covered) bytes but the data buffer holds \(buffer.count); "
                + "the file is truncated or has trailing bytes")
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
            let items = checkpoint.metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(checkpoint.metadata[$0]!))" }
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
            throw CheckpointError(file: fileName(path), error.reason)
        }
    }

    /// A JSON array of non-negative integers (JSONSerialization gives NSNumbers; refuse fractions).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in array {
            guard let number = item as? NSNumber, let integer = Int(exactly: number.doubleValue), integer >= 0 else {
                return nil
            }
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
