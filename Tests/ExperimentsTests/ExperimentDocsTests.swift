import Foundation
import Testing

/// Experiments/README.md shows the Slurm scripts verbatim: every fenced block after a `<!-- file: PATH -->` marker
/// must equal that committed file (the one `make test-slurm` submits), so the documentation cannot rot.
@Suite struct ExperimentDocsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// (path, block) for every block of a Markdown text marked `<!-- MARKER: PATH -->` (OutputFormatsDocsTests
    /// marks its examples with `schema`).
    static func markedBlocks(_ markdown: String, marker: String = "file") -> [(path: String, block: String)] {
        var found: [(String, String)] = []
        let lines = markdown.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let line = lines[i].trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("<!-- \(marker): "), line.hasSuffix("-->"), i + 1 < lines.count, lines[i + 1].hasPrefix("```") {
                let path = line.dropFirst("<!-- \(marker): ".count).dropLast(3).trimmingCharacters(in: .whitespaces)
                var body: [String] = []
                var j = i + 2
                while j < lines.count, lines[j] != "```" { body.append(lines[j]); j += 1 }
                found.append((path, body.map { $0 + "\n" }.joined()))
                i = j
            }
            i += 1
        }
        return found
    }

    @Test func readmeShowsTheSlurmScriptsVerbatim() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("Experiments/README.md"), encoding: .utf8)
        let blocks = Self.markedBlocks(readme)
        #expect(Set(blocks.map(\.path)) == ["Experiments/slurm/array.sbatch", "Experiments/slurm/merge.sbatch"])
        for (path, block) in blocks {
            let file = try String(contentsOf: Self.repository.appendingPathComponent(path), encoding: .utf8)
            #expect(block == file, "Experiments/README.md's block for \(path) differs from the file: paste the file into it")
        }
    }

    @Test func markedBlocksAreFoundAndAChangeIsSeen() {
        let text = "x\n<!-- file: a.sh -->\n```bash\necho 1\n```\n<!-- file: b.sh -->\n```\n```\n"
        let blocks = Self.markedBlocks(text)
        #expect(blocks.map(\.path) == ["a.sh", "b.sh"])
        #expect(blocks.map(\.block) == ["echo 1\n", ""])
        #expect(blocks[0].block != "echo 2\n")
    }
}
