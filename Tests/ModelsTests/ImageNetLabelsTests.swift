import Foundation
import Testing
@testable import Models

/// The ImageNet class list: validation of the file, and resolving a class by index or name (exact synonym, then
/// unique prefix, then unique substring), on a hand-made list and on the real one `make photos` fetches.
@Suite struct ImageNetLabelsTests {
    /// 1000 lines: a few real-looking classes at known indices, the rest "filler N".
    static let handMade: [String] = {
        var lines = (0..<1000).map { "filler \($0)" }
        lines[0] = "tench, Tinca tinca"
        lines[1] = "goldfish, Carassius auratus"
        lines[2] = "great white shark, white shark, man-eater, man-eating shark, Carcharodon carcharias"
        lines[3] = "tiger shark, Galeocerdo cuvieri"
        lines[10] = "crane"
        lines[11] = "crane, construction crane"
        lines[20] = "tiger, Panthera tigris"
        lines[21] = "tiger cat"
        return lines
    }()

    static func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("filtervis-labels-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: url)
        return url
    }

    static func loaded(_ lines: [String] = handMade, trailer: String = "\n") throws -> ImageNetLabels {
        let url = try write(lines.joined(separator: "\n") + trailer)
        defer { try? FileManager.default.removeItem(at: url) }
        return try ImageNetLabels.load(from: url)
    }

    @Test("an index or a name, case-insensitive, underscores as spaces: exact synonym, then prefix, then substring")
    func resolvesHandMade() throws {
        let labels = try Self.loaded()
        let cases: [(String, Int)] = [
            ("1", 1), (" 999 ", 999), ("0", 0),
            ("goldfish", 1), ("GoldFish", 1), ("Carassius auratus", 1), ("great_white_shark", 2), ("white  shark", 2),
            ("tiger", 20),            // exact beats the prefix of "tiger cat" and "tiger shark"
            ("tiger c", 21),          // unique prefix
            ("golD", 1),              // unique prefix of "goldfish"
            ("auratus", 1),           // unique substring (not a prefix of any synonym)
            ("cuvier", 3),
        ]
        for (spec, index) in cases {
            #expect(try labels.resolve(spec) == index, "resolve(\"\(spec)\")")
        }
        #expect(labels.names[2].hasPrefix("great white shark, white shark"))
        #expect(labels.shortName(2) == "great white shark" && labels.shortName(10) == "crane")
        #expect(labels.shortName(1000) == "class 1000" && labels.shortName(-1) == "class -1")
    }

    @Test("ambiguous names list the candidates with their indices and say to pick by index")
    func ambiguous() throws {
        let labels = try Self.loaded()
        #expect(throws: LabelError.ambiguous(spec: "crane", candidates: [.init(index: 10, name: "crane"),
                                                                         .init(index: 11, name: "crane, construction crane")], total: 2)) {
            try labels.resolve("crane")
        }
        #expect(throws: LabelError.self) { try labels.resolve("shark") }   // substring of 2 and 3
        do {
            _ = try labels.resolve("filler")
            Issue.record("'filler' matched one class")
        } catch let error as LabelError {
            guard case let .ambiguous(_, candidates, total) = error else { Issue.record("\(error)"); return }
            #expect(candidates.count == 8 && total == 992 && candidates[0].index == 4, "\(error)")
            let message = error.description
            for text in ["matches 992 ImageNet classes", "4 (filler 4)", "and 984 more", "by its index (e.g. 4)"] {
                #expect(message.contains(text), "lacks '\(text)': \(message)")
            }
        }
    }

    @Test("unknown names and out-of-range indices are typed errors with the closest classes and the range")
    func unknownAndOutOfRange() throws {
        let labels = try Self.loaded()
        #expect(throws: LabelError.indexOutOfRange(spec: "1000", count: 1000)) { try labels.resolve("1000") }
        #expect(throws: LabelError.indexOutOfRange(spec: "-1", count: 1000)) { try labels.resolve("-1") }
        #expect(throws: LabelError.emptySpec) { try labels.resolve("  _ ") }
        do {
            _ = try labels.resolve("goldfsh")
            Issue.record("'goldfsh' resolved")
        } catch let error as LabelError {
            guard case let .unknown(spec, closest) = error else { Issue.record("\(error)"); return }
            #expect(spec == "goldfsh" && closest.count == 8 && closest[0] == .init(index: 1, name: Self.handMade[1]), "\(error)")
            #expect(error.description.contains("closest: 1 (goldfish, Carassius auratus)"), "\(error)")
            #expect(error.description.contains("by its index (0-999)"), "\(error)")
        }
        #expect(ImageNetLabels.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(ImageNetLabels.editDistance(Array(""), Array("abc")) == 3)
    }

    @Test("the file must exist and hold exactly 1000 non-empty lines; errors name the file")
    func validation() throws {
        #expect(try Self.loaded(trailer: "").names.count == 1000)          // no final newline
        #expect(try Self.loaded(trailer: "\r\n").names[0] == "tench, Tinca tinca")
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-no-labels-\(UUID().uuidString).txt")
        #expect(throws: LabelError.missingFile(path: missing.path)) { try ImageNetLabels.load(from: missing) }
        #expect(LabelError.missingFile(path: missing.path).description.contains("run `make photos`"))

        for (lines, expected) in [(Array(Self.handMade.dropLast()), "found 999"),
                                  (Self.handMade + ["extra"], "found 1001")] {
            let url = try Self.write(lines.joined(separator: "\n") + "\n")
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(throws: LabelError.wrongLineCount(path: url.path, count: lines.count)) { try ImageNetLabels.load(from: url) }
            let message = LabelError.wrongLineCount(path: url.path, count: lines.count).description
            #expect(message.contains(url.path) && message.contains(expected) && message.contains("make photos"), "\(message)")
        }
        var blank = Self.handMade
        blank[499] = "  "
        let url = try Self.write(blank.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: LabelError.emptyLine(path: url.path, line: 500)) { try ImageNetLabels.load(from: url) }

        let binary = try Self.write("")
        try Data([0xff, 0xfe, 0x00, 0xc3]).write(to: binary)
        defer { try? FileManager.default.removeItem(at: binary) }
        #expect(throws: LabelError.self) { try ImageNetLabels.load(from: binary) }
    }

    @Test("the real list (make photos) is in ILSVRC2012 class-index order and resolves the names people type")
    func realFile() throws {
        let labels = try ImageNetLabels.load()
        #expect(labels.names.count == 1000)
        let known: [(Int, String)] = [(0, "tench"), (1, "goldfish"), (2, "great white shark"), (281, "tabby"),
                                      (282, "tiger cat"), (285, "Egyptian cat"), (388, "giant panda"), (504, "coffee mug"),
                                      (652, "military uniform"), (967, "espresso"), (999, "toilet tissue")]
        for (index, name) in known {
            #expect(labels.shortName(index) == name, "class \(index)")
        }
        let specs: [(String, Int)] = [("goldfish", 1), ("tabby cat", 281), ("Tabby", 281), ("great_white_shark", 2),
                                      ("tiger", 292), ("espresso", 967), ("281", 281), ("Granny Smith", 948)]
        for (spec, index) in specs {
            #expect(try labels.resolve(spec) == index, "resolve(\"\(spec)\")")
        }
        // Two classes each: the bird and the machine, the corgi and the sweater.
        for (spec, indices) in [("crane", [134, 517]), ("cardigan", [264, 474])] {
            #expect(throws: LabelError.ambiguous(spec: spec, candidates: indices.map { .init(index: $0, name: labels.names[$0]) },
                                                 total: 2)) { try labels.resolve(spec) }
        }
    }
}
