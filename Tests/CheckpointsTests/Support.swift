import Foundation
import Testing
@testable import Checkpoints

/// Fixture files written by Scripts/fixtures/checkpoints.py.
enum Fixture {
    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil),
                     "fixture \(name) missing: run python3 Scripts/fixtures/checkpoints.py")
    }

    static func path(_ name: String) throws -> String { try url(name).path }
    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    /// expected.json: what torch / numpy / onnx read back from each fixture file.
    struct Expected: Decodable {
        struct Tensor: Decodable {
            var name: String
            var dtype: String
            var shape: [Int]
            var values: [Double]?
            var sha256: String
        }

        struct File: Decodable {
            var format: String
            var metadata: [String: String]
            var tensors: [Tensor]
        }

        var files: [String: File]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: data("expected.json"))
    }
}

/// The real weights fetched by `make weights` (Scripts/fetch-weights.sh).
enum RealWeights {
    static var cache: String {
        ProcessInfo.processInfo.environment["FILTERVIS_CACHE"] ?? (NSHomeDirectory() + "/.cache/filtervis")
    }

    /// The path of a fetched file; records a failure telling how to get it when it is missing.
    static func path(_ relative: String) -> String? {
        let path = cache + "/weights/" + relative
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(path) is missing: run make weights (Scripts/fetch-weights.sh .build/release/filtervis)")
            return nil
        }
        return path
    }
}

/// Pickle bytes built by hand for hostile-input tests.
enum PickleBytes {
    static func shortUnicode(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
    static func binUnicode(_ s: String) -> [UInt8] {
        let n = UInt32(s.utf8.count)
        return [0x58] + withUnsafeBytes(of: n.littleEndian, Array.init) + Array(s.utf8)
    }
    /// `GLOBAL module name`, then (arg,) REDUCE STOP.
    static func globalCall(_ module: String, _ name: String, _ arg: String) -> Data {
        Data([0x80, 0x02, 0x63] + Array("\(module)\n\(name)\n".utf8) + binUnicode(arg) + [0x85, 0x52, 0x2E])
    }
    /// The same through STACK_GLOBAL (protocol 4).
    static func stackGlobalCall(_ module: String, _ name: String, _ arg: String) -> Data {
        Data([0x80, 0x04] + shortUnicode(module) + shortUnicode(name) + [0x93] + binUnicode(arg) + [0x85, 0x52, 0x2E])
    }
}

/// Expects `body` to throw a CheckpointError whose description contains every one of `fragments`.
func expectCheckpointError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        for fragment in fragments where !error.description.contains(fragment) {
            Issue.record("error '\(error.description)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
    }
}

func sha256(_ data: Data) -> String { SHA256.hex(of: data) }
