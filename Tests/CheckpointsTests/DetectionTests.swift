import Foundation
import Testing
@testable import Checkpoints

/// Format detection by structure, and malformed pickles reported as pickles (issue 11 §4).
@Suite struct DetectionTests {
    static let json = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    static let values: [UInt8] = le(Float(1.5).bitPattern) + le(Float(-2).bitPattern)

    /// Header lengths whose first byte is 0x80 (the pickle PROTO opcode) and second a valid protocol number.
    @Test(arguments: [640, 896, 1152, 1408, 0x0280 + 0x10000])
    func safetensorsWhoseLengthLooksLikeAPickleLoad(headerLength: Int) throws {
        let data = safetensorsFile(Self.json, headerLength: headerLength, data: Self.values)
        #expect(data[0] == 0x80 && (2...5).contains(data[1]))
        let path = try temporaryFile(data, name: "len\(headerLength).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let checkpoint = try Checkpoint.load(path: path)
        #expect(checkpoint.format == .safetensors)
        #expect(try checkpoint.tensor(named: "w").floats() == [1.5, -2])
    }

    @Test func filesFiltervisWritesWithSuchHeaderLengthsLoadBack() throws {
        // Grow a metadata value until the written header is exactly 640 bytes, as a `weights import` output can be.
        let tensor = try CheckpointTensor(name: "features.0.weight", shape: [2], floats: [1, 2])
        for target in [640, 896] {
            var found: Data?
            for n in 0..<1000 {
                let checkpoint = try Checkpoint(format: .safetensors, tensors: [tensor], metadata: ["source": String(repeating: "x", count: n)])
                let encoded = SafeTensors.encode(checkpoint)
                if encoded.prefix(8) == Data(le(UInt64(target))) { found = encoded; break }
            }
            let encoded = try #require(found, "no metadata length gives a \(target)-byte header")
            let path = try temporaryFile(encoded, name: "written\(target).safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try Checkpoint.load(path: path).tensor(named: "features.0.weight").floats() == [1, 2])
        }
    }

    @Test func truncatedSafetensorsIsStillReportedAsSafetensors() throws {
        let data = safetensorsFile(Self.json, headerLength: 64, data: Self.values).prefix(40)
        #expect(CheckpointFormat.detect(data) == .safetensors)
        let error = checkpointError { _ = try Checkpoint.load(data, format: .safetensors) }
        #expect(error?.description.contains("claims 64 bytes") == true, "\(String(describing: error))")
    }

    @Test func malformedPicklesAreReportedAsMalformedPicklesWithOffsetAndOpcode() throws {
        let cases: [([UInt8], Int, UInt8, PickleProblem)] = [
            ([0x80, 0x02, 0xFF, 0x2E, 0, 0, 0, 0], 2, 0xFF, .unsupportedOpcode),
            ([0x80, 0x02, 0x7D, 0x30, 0x30, 0x2E, 0, 0], 4, 0x30, .emptyStack),
            ([0x80, 0x09, 0x7D, 0x2E, 0, 0, 0, 0], 0, 0x80, .unsupportedProtocol(9)),
            ([0x80, 0x02, 0x68, 0x07, 0x2E, 0, 0, 0], 2, 0x68, .memoMissing(7)),
        ]
        for (bytes, offset, opcode, problem) in cases {
            let path = try temporaryFile(Data(bytes), name: "bad.pkl")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = checkpointError { _ = try Checkpoint.load(path: path) }
            #expect(error?.file == "bad.pkl" || error?.file?.hasSuffix("bad.pkl") == true)
            guard case .malformedPickle(offset, opcode, problem)? = error?.underlying else {
                Issue.record("\(bytes): \(String(describing: error))"); continue
            }
            let text = error?.description ?? ""
            #expect(text.contains("malformed pickle at offset \(offset) (opcode 0x\(String(opcode, radix: 16)))"), "\(text)")
            #expect(!text.contains("unknown checkpoint format"), "\(text)")
        }
    }

    @Test func fifosAreRefusedWithoutBlocking() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-\(UUID()).pth").path
        guard mkfifo(path, 0o600) == 0 else { Issue.record("mkfifo failed"); return }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = checkpointError { _ = try Checkpoint.load(path: path) }
        guard case .file(.notRegularFile)? = error?.underlying else { Issue.record("\(String(describing: error))"); return }
        #expect(error?.description.contains("FIFO") == true)
    }
}
