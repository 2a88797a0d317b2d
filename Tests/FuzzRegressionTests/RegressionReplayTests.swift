import Foundation
import FuzzTargets
import XCTest

/// Replays Fuzz/regressions/<target>/* through the same entry points the fuzzers call, without the fuzzer:
/// every input that ever crashed, hung, allocated too much or was wrongly refused.
///
/// File names say what is expected: `accept-*` must be read (it was wrongly refused once), `refuse-*` must be
/// refused (it was wrongly accepted); any other file may be accepted or refused with a typed one-line error, but
/// must not break the contract, crash, or take long.
final class RegressionReplayTests: XCTestCase {
    /// An input that takes longer than this (in a release build) counts as a hang.
    static let timeLimit: TimeInterval = 5

    static let regressions = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/regressions", isDirectory: true)

    func testEveryRegressionInputKeepsTheContract() throws {
        let folders = try FileManager.default.contentsOfDirectory(at: Self.regressions, includingPropertiesForKeys: nil)
            .filter { $0.hasDirectoryPath }.sorted { $0.path < $1.path }
        XCTAssertFalse(folders.isEmpty, "no regression folders under \(Self.regressions.path)")
        var replayed = 0
        for folder in folders {
            let name = folder.lastPathComponent
            guard let target = FuzzTargets.named(name) else {
                XCTFail("Fuzz/regressions/\(name) names no fuzz target (targets: \(FuzzTargets.all.map(\.name)))")
                continue
            }
            let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { !$0.hasDirectoryPath && !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
            for file in files {
                let label = "\(name)/\(file.lastPathComponent)"
                let input = [UInt8](try Data(contentsOf: file))
                let started = Date()
                let outcome: FuzzOutcome
                do { outcome = try target.run(input) } catch {
                    XCTFail("\(label): \(error)")
                    continue
                }
                let seconds = Date().timeIntervalSince(started)
                XCTAssertLessThan(seconds, Self.timeLimit, "\(label) took \(seconds) s: a hang")
                if file.lastPathComponent.hasPrefix("accept-") {
                    XCTAssertEqual(outcome, .accepted, "\(label) must be read, but: \(outcome)")
                }
                if file.lastPathComponent.hasPrefix("refuse-"), outcome == .accepted {
                    XCTFail("\(label) must be refused, but was read")
                }
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 0)
        print("fuzz regressions: replayed \(replayed) inputs from \(folders.count) targets")
    }

    /// The contract check itself can fail: a foreign error or a multi-line message is a violation, not a refusal.
    func testContractRefusesUntypedErrorsAndBrokenPromises() throws {
        // The config target on a file that is fine JSON5 but no config is a typed refusal naming file and line.
        let config = try XCTUnwrap(FuzzTargets.named("config"))
        guard case .refused(let message) = try config.run(Array("[1, 2]".utf8)) else { return XCTFail("accepted a list") }
        XCTAssertTrue(message.hasPrefix("fuzz.json5:1:"), message)
        // safetensors whose round trip and detection hold is accepted (8-byte length, then a JSON object, no tensors).
        let safetensors = try XCTUnwrap(FuzzTargets.named("safetensors"))
        var file: [UInt8] = [8, 0, 0, 0, 0, 0, 0, 0]
        file += Array("{}      ".utf8)
        XCTAssertEqual(try safetensors.run(file), .accepted)
    }
}
