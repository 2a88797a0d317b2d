import Foundation
import Testing

/// docs/architecture.md names real files and every target: a rename or a new target must update it.
@Suite struct ArchitectureDocsTests {
    static let page = ExperimentDocsTests.repository.appendingPathComponent("docs/architecture.md")

    static func sourceFiles() -> Set<String> {
        let root = ExperimentDocsTests.repository
        var names = Set<String>()
        for folder in ["Sources", "Fuzz/Sources"] {
            let walk = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)
            while let path = walk?.nextObject() as? String {
                if path.hasSuffix(".swift") { names.insert(path) }
            }
        }
        return names
    }

    @Test func everyFileItNamesExists() throws {
        let text = try String(contentsOf: Self.page, encoding: .utf8)
        let files = Self.sourceFiles()
        let named = text.matches(of: /[A-Za-z0-9_\/]+\.swift/).map { String($0.output) }
        #expect(named.count > 15)
        for name in Set(named) {
            #expect(files.contains { $0 == name || $0.hasSuffix("/" + name) }, "docs/architecture.md names \(name), which is not a source file")
        }
    }

    @Test func everyTargetHasARow() throws {
        let text = try String(contentsOf: Self.page, encoding: .utf8)
        let manifest = try String(contentsOf: ExperimentDocsTests.repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = manifest.matches(of: /\.(?:target|executableTarget|systemLibrary)\(name: "([A-Za-z-]+)"/).map { String($0.output.1) }
        #expect(targets.count >= 10)
        for target in targets {
            #expect(text.contains("`\(target)`"), "docs/architecture.md has no row for the target \(target)")
        }
    }
}
