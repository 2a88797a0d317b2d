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

    /// The newest source of the targets the binary links, with its modification time (not Package.swift: a
    /// manifest edit that leaves the binary's code alone does not relink it).
    static var newestSource: (path: String, date: Date) {
        // Every target under Sources/ but the bench's (new targets are covered without a list to keep up).
        let sources = repository.appendingPathComponent("Sources")
        let linked = ((try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? []).filter { $0 != "filtervis-bench" }
        var newest = (path: "", date: Date.distantPast)
        for target in linked {
            let folder = repository.appendingPathComponent("Sources/\(target)")
            guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.contentModificationDateKey])
            else { continue }
            for case let url as URL in walker where ["swift", "c", "h"].contains(url.pathExtension) {
                let date = modificationDate(url)
                if date > newest.date { newest = (String(url.path.dropFirst(repository.path.count + 1)), date) }
            }
        }
        return newest
    }

    static func modificationDate(_ url: URL) -> Date {
        (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
    }

    /// Why `binary` must not be tested: missing, or older than a source it is built from (a `swift test
    /// --skip-build` after an edit, or a FILTERVIS_BIN from another build); nil if it is fresh.
    static func staleness(of binary: URL?) -> String? {
        guard let binary else { return "filtervis binary not found: run `make build` (or set FILTERVIS_BIN)" }
        let built = modificationDate(binary), source = newestSource
        guard built >= source.date else {
            return "\(binary.path) is older than \(source.path) (built \(built), edited \(source.date)): it is not the code "
                + "under test; rebuild with `swift build --build-tests` (the flags of the Makefile) or `make test`"
        }
        return nil
    }

    /// The fresh binary; the first call checks it (one check per test process: sources do not change under it).
    static let checkedBinary: Swift.Result<URL, BinaryProblem> = {
        if let problem = staleness(of: binary) { return .failure(BinaryProblem(description: problem)) }
        return .success(binary!)
    }()

    struct BinaryProblem: Error, CustomStringConvertible { var description: String }

    /// Runs `filtervis arguments...` (with `environment` added to this process's); records an issue and returns
    /// nil if the binary is missing or stale. `executable` runs a copy of the checked binary instead.
    static func run(_ arguments: [String], environment: [String: String] = [:], executable: URL? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Result? {
        let binary: URL
        switch checkedBinary {
        case .success(let url): binary = executable ?? url
        case .failure(let problem):
            Issue.record("\(problem)", sourceLocation: sourceLocation)
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
