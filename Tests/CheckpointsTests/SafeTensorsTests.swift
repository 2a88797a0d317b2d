import Foundation
import Testing
@testable import Checkpoints

@Suite struct SafeTensorsTests {
    /// A safetensors file from a header object and a data buffer, with the length prefix and space padding.
    static func file(_ header: String, data: [UInt8] = [], pad: Bool = true) -> Data {
        var json = Array(header.utf8)
        if pad { json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8) }
        return Data(withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data)
    }

    @Test func writesTheSpecLayoutByteForByte() throws {
        let a = try CheckpointTensor(name: "b", shape: [2], floats: [1, -2])
        let b = try CheckpointTensor(name: "a", dtype: .i64, shape: [], data: Data([7, 0, 0, 0, 0, 0, 0, 0]))
        let encoded = SafeTensors.encode(try Checkpoint(format: .safetensors, tensors: [a, b], metadata: ["k": "v\"q"]))
        // Metadata first, tensors sorted by name with consecutive offsets, header padded with spaces to 8 bytes.
        let header = #"{"__metadata__":{"k":"v\"q"},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let expected = Self.file(padded, data: [7, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0], pad: false)
        #expect(encoded == expected)
        #expect((encoded.count - 16) % 8 == 0)
    }

    @Test func roundTripsEveryDTypeThroughAFile() throws {
        var tensors: [CheckpointTensor] = []
        for (i, dtype) in DType.allCases.enumerated() {
            let bytes = Data((0..<(6 * dtype.size)).map { UInt8(truncatingIfNeeded: $0 * 7 + i) })
            tensors.append(try CheckpointTensor(name: "t.\(dtype.rawValue)", dtype: dtype, shape: [2, 3], data: bytes))
        }
        let checkpoint = try Checkpoint(format: .safetensors, tensors: tensors, metadata: ["model": "x", "näme": "ü\n"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(checkpoint, to: path)
        let back = try Checkpoint.load(path: path)
        #expect(back.format == .safetensors)
        #expect(back.metadata == checkpoint.metadata)
        #expect(back.names == checkpoint.names)
        for (x, y) in zip(back.tensors, checkpoint.tensors) {
            #expect(x.dtype == y.dtype && x.shape == y.shape && x.data == y.data, "\(x.name)")
        }
        // No temporary file is left next to the output.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(!siblings.contains { $0.hasPrefix(".\((path as NSString).lastPathComponent).tmp") })
    }

    @Test func writingIntoAMissingDirectoryFailsClearly() throws {
        let checkpoint = try Checkpoint(format: .safetensors, tensors: [try CheckpointTensor(name: "a", shape: [1], floats: [1])])
        expectCheckpointError("out.safetensors", "cannot write", "/nonexistent-dir does not exist") {
            try SafeTensors.write(checkpoint, to: "/nonexistent-dir/out.safetensors")
        }
    }

    @Test func refusesHostileHeaders() {
        let f32x2 = [UInt8](repeating: 0, count: 8)
        let cases: [(String, Data, [String])] = [
            ("overlap", Self.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: f32x2),
             ["'b'", "overlap"]),
            ("out of range", Self.file(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: f32x2),
             ["'a'", "outside the 8-byte data buffer"]),
            ("gap", Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: f32x2), ["gap of 4 bytes"]),
            ("trailing bytes", Self.file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: f32x2),
             ["cover 4 bytes", "holds 8"]),
            ("shape vs bytes", Self.file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: f32x2),
             ["'a'", "needs 12 bytes", "span 8"]),
            ("unknown dtype", Self.file(#"{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, data: f32x2),
             ["'a'", "unknown dtype 'F8_E4M3'"]),
            ("bad json", Self.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]"#, data: f32x2), ["not valid JSON"]),
            ("negative dim", Self.file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: f32x2),
             ["shape is not a list of non-negative integers"]),
            ("fractional offset", Self.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,7.5]}}"#, data: f32x2),
             ["data_offsets is not a pair"]),
            ("metadata not strings", Self.file(#"{"__metadata__":{"n":3}}"#), ["__metadata__", "'n'", "not a string"]),
            ("extra field", Self.file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#, data: f32x2),
             ["unknown fields"]),
        ]
        for (label, bytes, fragments) in cases {
            do {
                _ = try SafeTensors.read(bytes)
                Issue.record("\(label): accepted")
            } catch let error as CheckpointError {
                for fragment in fragments { #expect(error.description.contains(fragment), "\(label): \(error)") }
            } catch { Issue.record("\(label): \(error)") }
        }
    }

    @Test func deeplyNestedJSONIsAnErrorNotAStackOverflow() {
        let nested = "{\"a\":" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
        expectCheckpointError("safetensors") { _ = try SafeTensors.read(Self.file(nested)) }
    }

    @Test func refusesHeaderLengthsAboveTheLimitWithoutReadingThem() {
        // 100 MB + 1 claimed: refused from the 8-byte prefix alone.
        var bytes = Data(withUnsafeBytes(of: UInt64(100_000_001).littleEndian, Array.init))
        bytes.append(contentsOf: Array("{}".utf8))
        expectCheckpointError("exceeds the 100000000-byte limit") { _ = try SafeTensors.read(bytes) }
        var short = Data(withUnsafeBytes(of: UInt64(64).littleEndian, Array.init))
        short.append(contentsOf: Array("{}".utf8))
        expectCheckpointError("truncated", "claims 64 bytes") { _ = try SafeTensors.read(short) }
    }
}
