import Foundation
import Testing
@testable import Checkpoints

/// Every fixture file read back exactly as the reference library (torch / numpy / onnx) reads it.
@Suite struct FixtureReadTests {
    static let files = ["tiny_zip.pth", "tiny_legacy.pth", "nested_zip.pth", "tiny_numpy_p2.pkl", "tiny_numpy_p5.pkl",
                        "tiny.onnx", "tiny.safetensors"]

    @Test(arguments: files)
    func readsLikeTheReference(file: String) throws {
        let expected = try #require(try Fixture.expected().files[file])
        let checkpoint = try Checkpoint.load(path: try Fixture.path(file))
        #expect(checkpoint.format.rawValue == expected.format)
        #expect(checkpoint.names == expected.tensors.map(\.name))
        for (key, value) in expected.metadata { #expect(checkpoint.metadata[key] == value, "metadata \(key)") }
        for reference in expected.tensors {
            let tensor = try #require(checkpoint[reference.name])
            #expect(tensor.dtype.rawValue == reference.dtype, "\(reference.name) dtype")
            #expect(tensor.shape == reference.shape, "\(reference.name) shape")
            // Bytes exactly as the reference library has them (contiguous, little-endian).
            #expect(sha256(tensor.data) == reference.sha256, "\(reference.name) bytes")
            // Values: f32/f16/bf16 and small integers convert exactly; f64 rounds to the nearest Float.
            let values = try tensor.floats()
            let wanted = (reference.values ?? []).map { Float($0) }
            #expect(values == wanted, "\(reference.name): got \(values.prefix(6)), want \(wanted.prefix(6))")
        }
    }

    @Test func nonContiguousAndSharedStoragesAreMaterialised() throws {
        // tiny_zip.pth: "transposed" = (arange(12) * 0.5 - 2).reshape(3, 4).t(), strides (1, 4);
        // "shared.b" = (arange(10) / 8)[5:].reshape(5, 1)[::2]: offset 5, stride 2 in a storage shared with shared.a.
        for file in ["tiny_zip.pth", "tiny_legacy.pth"] {
            let checkpoint = try Checkpoint.load(path: try Fixture.path(file))
            let transposed = try #require(checkpoint["transposed"])
            #expect(transposed.shape == [4, 3])
            #expect(try transposed.floats() == [-2, 0, 2, -1.5, 0.5, 2.5, -1, 1, 3, -0.5, 1.5, 3.5])
            #expect(try checkpoint["shared.a"]?.floats() == [0.25, 0.375, 0.5, 0.625])
            #expect(try checkpoint["shared.b"]?.floats() == [0.625, 0.875, 1.125])
            #expect(checkpoint["bn.num_batches_tracked"]?.shape == [])
        }
    }

    @Test func formatIsDetectedFromBytesNotExtension() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: copy) }
        try Fixture.data("tiny_legacy.pth").write(to: copy)
        #expect(try Checkpoint.load(path: copy.path).format == .torchLegacy)
        #expect(CheckpointFormat.detect(try Fixture.data("tiny.onnx")) == .onnx)
        #expect(CheckpointFormat.detect(Data("hello world, not a checkpoint".utf8)) == nil)
    }

    @Test func unknownBytesAndMissingFilesGiveClearErrors() throws {
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-\(UUID()).bin")
        defer { try? FileManager.default.removeItem(at: junk) }
        try Data("hello world, not a checkpoint".utf8).write(to: junk)
        expectCheckpointError(junk.lastPathComponent, "unknown checkpoint format") { _ = try Checkpoint.load(path: junk.path) }
        expectCheckpointError("nothing-here.pth", "no such file") { _ = try Checkpoint.load(path: "/tmp/nothing-here.pth") }
    }

    @Test func missingTensorsAreNamedWithNeighbours() throws {
        let checkpoint = try Checkpoint.load(path: try Fixture.path("tiny_zip.pth"))
        #expect(try checkpoint.tensor(named: "conv.bias").shape == [2])
        expectCheckpointError("has no tensor 'conv.scale'", "similar: conv.bias, conv.weight") {
            _ = try checkpoint.tensor(named: "conv.scale")
        }
    }

    @Test func compressedZipEntriesAreRefused() throws {
        expectCheckpointError("deflated_zip.pth", "compressed", "only stored entries") {
            _ = try Checkpoint.load(path: try Fixture.path("deflated_zip.pth"))
        }
    }
}

/// Conversions and strided copies checked by hand.
@Suite struct ConversionTests {
    @Test func halfPrecisionBitsConvertExactly() {
        #expect(halfToFloat(0x3C00) == 1)
        #expect(halfToFloat(0xC100) == -2.5)
        #expect(halfToFloat(0x7BFF) == 65504)          // largest half
        #expect(halfToFloat(0x0001) == 0x1p-24)        // smallest subnormal
        #expect(halfToFloat(0x0400) == 0x1p-14)        // smallest normal
        #expect(halfToFloat(0x8000).sign == .minus && halfToFloat(0x8000) == 0)
        #expect(halfToFloat(0x7C00) == .infinity)
        #expect(halfToFloat(0x7E00).isNaN)
    }

    @Test func bfloat16AndDoubleConvert() throws {
        let bf = try CheckpointTensor(name: "b", dtype: .bf16, shape: [2], data: Data([0x80, 0x3F, 0x49, 0xC0]))
        #expect(try bf.floats() == [1, -3.140625])     // 0x3F80 = 1.0, 0xC049 = -3.140625
        let d = try CheckpointTensor(name: "d", dtype: .f64, shape: [1], data: withUnsafeBytes(of: (1.0 / 3.0).bitPattern.littleEndian) { Data($0) })
        #expect(try d.floats() == [Float(1.0 / 3.0)])
    }

    @Test func stridedViewsAreGatheredInRowMajorOrder() throws {
        // storage 0..<12 as float32; view offset 1, shape (2, 3), strides (1, 4): [[1, 5, 9], [2, 6, 10]].
        let storage = (0..<12).map(Float.init).withUnsafeBufferPointer { Data(buffer: $0) }
        let out = try materialize(storage: storage, dtype: .f32, offset: 1, shape: [2, 3], strides: [1, 4], name: "v")
        #expect(try CheckpointTensor(name: "v", dtype: .f32, shape: [2, 3], data: out).floats() == [1, 5, 9, 2, 6, 10])
        // offset 4 + (2-1)*1 + (3-1)*4 = 13, past the last element (11).
        expectCheckpointError("'v'", "reaches element 13") {
            _ = try materialize(storage: storage, dtype: .f32, offset: 4, shape: [2, 3], strides: [1, 4], name: "v")
        }
    }

    @Test func tensorRefusesWrongByteCounts() {
        expectCheckpointError("'t'", "needs 24 bytes", "23") {
            _ = try CheckpointTensor(name: "t", dtype: .f32, shape: [2, 3], data: Data(count: 23))
        }
    }
}

/// Views whose strides or offsets would reach past (or wrap around) their storage are refused, never read.
@Suite struct HostileViewTests {
    @Test func overflowingStridesAndOffsetsAreRefused() {
        let storage = Data(count: 16)
        expectCheckpointError("overflow") {
            _ = try materialize(storage: storage, dtype: .f32, offset: 1, shape: [2, 2], strides: [Int.max / 2, Int.max / 2 + 2], name: "x")
        }
        expectCheckpointError("negative storage offset") {
            _ = try materialize(storage: storage, dtype: .f32, offset: -1, shape: [2], strides: [1], name: "x")
        }
        expectCheckpointError("negative stride") {
            _ = try materialize(storage: storage, dtype: .f32, offset: 3, shape: [2], strides: [-1], name: "x")
        }
        expectCheckpointError("3 strides for the 2 dimensions") {
            _ = try materialize(storage: storage, dtype: .f32, offset: 0, shape: [2, 2], strides: [2, 1, 1], name: "x")
        }
    }
}
