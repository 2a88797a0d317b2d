import Foundation
import Testing
@testable import Checkpoints

/// Every format cut short at every offset: always a thrown error, never a crash or a silently partial result.
@Suite struct TruncationTests {
    @Test(arguments: FixtureReadTests.files)
    func truncatedFixturesThrow(file: String) throws {
        let data = try Fixture.data(file)
        let full = try Checkpoint.load(data, format: try #require(CheckpointFormat.detect(data)))
        var accepted: [Int] = []
        for length in 0..<data.count {
            let prefix = data.prefix(length)
            do {
                let format = CheckpointFormat.detect(prefix) ?? CheckpointFormat.detect(data)!
                let partial = try Checkpoint.load(prefix, format: format)
                // Protobuf has no end marker: an ONNX file cut after its graph is still a whole graph.
                if format == .onnx, partial.names == full.names, zip(partial.tensors, full.tensors).allSatisfy({ $0.data == $1.data }) {
                    continue
                }
                accepted.append(length)
            } catch is CheckpointError {
                continue
            }
        }
        #expect(accepted.isEmpty, "\(file): prefixes of \(accepted.prefix(10)) bytes were accepted")
    }

    @Test func truncatedRealLegacyFileThrows() throws {
        guard let path = RealWeights.path("src/efficientnet-lite0-57934424.pth") else { return }
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        // 40 cuts spread over the file, plus the pickle region densely (its first 50 KB).
        let cuts = Array(stride(from: 0, to: 50_000, by: 97)) + (1..<40).map { data.count / 40 * $0 } + [data.count - 1]
        for length in cuts {
            do {
                _ = try Checkpoint.load(data.prefix(length), format: .torchLegacy)
                Issue.record("a \(length)-byte prefix was accepted")
            } catch is CheckpointError {}
        }
    }
}

@Suite struct ProtobufTests {
    @Test func readsVarintsFixedAndPackedFields() throws {
        // field 1 varint 300 (ac 02), field 2 packed [1, 150] (0a 03 01 96 01), field 3 fixed32, field 4 fixed64.
        var reader = ProtobufReader(Data([0x08, 0xAC, 0x02, 0x12, 0x03, 0x01, 0x96, 0x01, 0x1D, 1, 0, 0, 0,
                                          0x21, 2, 0, 0, 0, 0, 0, 0, 0]))
        var field = try #require(try reader.nextField())
        #expect(field.number == 1 && field.wireType == .varint)
        #expect(try reader.varint() == 300)
        field = try #require(try reader.nextField())
        #expect(try reader.varints(field.wireType) == [1, 150])
        field = try #require(try reader.nextField())
        #expect(try field.number == 3 && reader.fixed32() == 1)
        field = try #require(try reader.nextField())
        #expect(try field.number == 4 && reader.fixed64() == 2)
        #expect(try reader.nextField() == nil)
    }

    @Test func refusesBadVarintsLengthsAndWireTypes() {
        let cases: [([UInt8], String)] = [
            ([0x08] + [UInt8](repeating: 0xFF, count: 11), "varint"),
            ([0x08, 0xFF, 0xFF], "truncated"),
            ([0x3A, 0xFF, 0xFF, 0xFF, 0x0F, 0x00], "truncated: a field of"),   // graph of 4 GB in a 6-byte file
            ([0x3A, 0x05, 0x08], "truncated"),
            ([0x0F], "invalid wire type 7"),
            ([0x00], "invalid field number 0"),
            ([0x3B, 0x00], "groups are not supported"),
        ]
        for (bytes, fragment) in cases {
            expectCheckpointError(fragment) { _ = try Checkpoint.load(Data(bytes), format: .onnx) }
        }
    }

    @Test func refusesExternalDataAndMissingGraph() {
        // graph { initializer { dims 2, data_type 1, name "w", data_location EXTERNAL } }
        let tensor: [UInt8] = [0x08, 0x02, 0x10, 0x01, 0x42, 0x01, UInt8(ascii: "w"), 0x70, 0x01]
        let graph: [UInt8] = [0x2A, UInt8(tensor.count)] + tensor
        let model: [UInt8] = [0x08, 0x07, 0x3A, UInt8(graph.count)] + graph
        expectCheckpointError("initializer 'w'", "external file") { _ = try Checkpoint.load(Data(model), format: .onnx) }
        expectCheckpointError("no graph") { _ = try Checkpoint.load(Data([0x08, 0x07]), format: .onnx) }
        // raw_data shorter than dims say: shape check.
        let short: [UInt8] = [0x08, 0x02, 0x10, 0x01, 0x42, 0x01, UInt8(ascii: "w"), 0x4A, 0x04, 0, 0, 0x80, 0x3F]
        let graph2: [UInt8] = [0x2A, UInt8(short.count)] + short
        expectCheckpointError("'w'", "needs 8 bytes") {
            _ = try Checkpoint.load(Data([0x08, 0x07, 0x3A, UInt8(graph2.count)] + graph2), format: .onnx)
        }
    }
}

@Suite struct SHA256Tests {
    @Test func matchesTheFIPSVectors() {
        #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func streamingInAnyChunksEqualsOneShot() {
        let data = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 31 + 7) })
        let whole = SHA256.hex(of: data)
        for chunk in [1, 3, 63, 64, 65, 127, 999] {
            var hasher = SHA256()
            var start = 0
            while start < data.count {
                hasher.update(data[start..<min(start + chunk, data.count)])
                start += chunk
            }
            #expect(hasher.finalizeHex() == whole, "chunk \(chunk)")
        }
    }

    @Test func hashesFiles() throws {
        let url = try Fixture.url("tiny_zip.pth")
        #expect(try SHA256.hex(ofFile: url.path) == SHA256.hex(of: try Data(contentsOf: url)))
        expectCheckpointError("missing.bin", "cannot be opened") { _ = try SHA256.hex(ofFile: "/tmp/missing.bin") }
    }
}

/// Seeded random byte corruptions of every fixture: each must load or throw a CheckpointError, never crash.
@Suite struct CorruptionTests {
    /// SplitMix64, local so the Checkpoints tests need no other target.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: FixtureReadTests.files)
    func corruptedBytesNeverCrash(file: String) throws {
        let data = try Fixture.data(file)
        let format = try #require(CheckpointFormat.detect(data))
        var rng = SplitMix64(state: 0x5EED)
        var failures = 0
        for _ in 0..<2000 {
            var bytes = [UInt8](data)
            for _ in 0..<Int(1 + rng.next() % 4) {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            do { _ = try Checkpoint.load(Data(bytes), format: format) } catch is CheckpointError { failures += 1 }
        }
        #expect(failures > 0, "\(file): no corruption was ever detected")
    }
}
