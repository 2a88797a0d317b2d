import Foundation
import Testing

/// CLITests run a binary, not linked code: they must refuse one that predates the sources (the test target depends
/// on the executable, so `swift build --build-tests` rebuilds it; a `--skip-build` run after an edit does not).
@Suite struct BinaryFreshnessTests {
    @Test("the binary under test is at least as new as every source it is built from")
    func binaryIsFresh() throws {
        #expect(CLI.staleness(of: CLI.binary) == nil, "\(CLI.staleness(of: CLI.binary) ?? "")")
    }

    @Test("a binary older than the newest source is refused, naming the source and the rebuild command")
    func staleBinaryIsRefused() throws {
        let binary = try #require(CLI.binary)
        let copy = temporaryFolder().appendingPathComponent("filtervis")
        defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
        try FileManager.default.copyItem(at: binary, to: copy)
        let before = CLI.newestSource.date.addingTimeInterval(-1)
        try FileManager.default.setAttributes([.modificationDate: before], ofItemAtPath: copy.path)
        let problem = try #require(CLI.staleness(of: copy))
        #expect(problem.contains(copy.path) && problem.contains(CLI.newestSource.path) && problem.contains("swift build --build-tests"))
        #expect(CLI.staleness(of: nil)?.contains("FILTERVIS_BIN") == true)
    }
}
