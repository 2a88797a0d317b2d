import Foundation
import Testing

/// Runs the built `filtervis` binary: FILTERVIS_BIN if set (make test sets it), else .build/release/filtervis
/// in this checkout.
enum CLI {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// FILTERVIS_BIN, else the binary built next to this test bundle (the test target depends on the executable,
    /// so it is as fresh as the tests), else .build/release/filtervis.
    static var binary: URL? {
        if let path = ProcessInfo.processInfo.environment["FILTERVIS_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            var folder = executable.deletingLastPathComponent()
            // The test runner may sit inside an .xctest bundle: look beside the bundle.
            while folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
            candidates.append(folder.appendingPathComponent("filtervis"))
        }
        candidates.append(repository.appendingPathComponent(".build/release/filtervis"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Result {
        var status: Int32
        var exitedNormally: Bool  // false: killed by a signal (a crash)
        var stdout: String
        var stderr: String
    }

    /// Runs `filtervis arguments...` (with `environment` added to this process's); records an issue and returns
    /// nil if the binary is missing.
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Result? {
        guard let binary else {
            Issue.record("filtervis binary not found: run `make build` (or set FILTERVIS_BIN)", sourceLocation: sourceLocation)
            return nil
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so that a full pipe cannot block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, exitedNormally: process.terminationReason == .exit,
                      stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A fresh empty folder under the temporary directory.
func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-cli-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
