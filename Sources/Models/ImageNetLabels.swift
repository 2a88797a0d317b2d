import Foundation

/// The 1000 ImageNet (ILSVRC2012) class names in class-index order, as `make photos` puts them in the cache
/// (opencv-doc's classification_classes_ILSVRC2012.txt: one class a line, synonyms separated by commas).
public struct ImageNetLabels: Sendable, Equatable {
    /// ILSVRC2012 has exactly this many classes; a file with another count is not this list.
    public static let classCount = 1000

    /// The full line of each class, e.g. "tabby, tabby cat"; `names[i]` is class index i (0-based, as the logits).
    public let names: [String]
    /// Each class's synonyms, normalised for matching (lower case, underscores as spaces, single spaces).
    private let synonyms: [[String]]

    /// `$FILTERVIS_CACHE/labels/imagenet-classes.txt`.
    public static var defaultURL: URL {
        ModelCatalog.cacheDirectory.appendingPathComponent("labels", isDirectory: true)
            .appendingPathComponent("imagenet-classes.txt")
    }

    /// Reads and validates the class list at `url` (default: `defaultURL`).
    public static func load(from url: URL? = nil) throws -> ImageNetLabels {
        let url = url ?? defaultURL
        guard FileManager.default.fileExists(atPath: url.path) else { throw LabelError.missingFile(path: url.path) }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw LabelError.unreadable(path: url.path, reason: "not readable as UTF-8 text")
        }
        return try ImageNetLabels(text: text, file: url.path)
    }

    /// Parses `text` (one class a line; a final newline is optional); `file` names it in errors.
    public init(text: String, file: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if lines.last == "" { lines.removeLast() }
        guard lines.count == Self.classCount else { throw LabelError.wrongLineCount(path: file, count: lines.count) }
        if let empty = lines.firstIndex(of: "") { throw LabelError.emptyLine(path: file, line: empty + 1) }
        names = lines
        synonyms = lines.map { line in line.split(separator: ",").map { Self.normalised(String($0)) }.filter { !$0.isEmpty } }
    }

    /// The text before the first comma of class `index`'s name ("tabby" for 281); "class N" outside 0-999.
    public func shortName(_ index: Int) -> String {
        guard names.indices.contains(index) else { return "class \(index)" }
        return names[index].split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? names[index]
    }

    /// The class index `spec` names: an index ("1"), or a name ("goldfish", "Tabby", "great_white_shark").
    ///
    /// Names match case-insensitively with underscores as spaces: first exactly, against any comma-separated
    /// synonym; failing that, a unique prefix of a synonym; failing that, a unique substring of one.
    public func resolve(_ spec: String) throws -> Int {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if let index = Int(trimmed) {
            guard names.indices.contains(index) else { throw LabelError.indexOutOfRange(spec: trimmed, count: names.count) }
            return index
        }
        let query = Self.normalised(trimmed)
        guard !query.isEmpty else { throw LabelError.emptySpec }
        // Each stage runs only when the stricter one found nothing: "tiger" is class 292, not also "tiger cat".
        let stages: [(String) -> Bool] = [{ $0 == query }, { $0.hasPrefix(query) }, { $0.contains(query) }]
        for matches in stages {
            let found = synonyms.indices.filter { synonyms[$0].contains(where: matches) }
            if found.count == 1 { return found[0] }
            if found.count > 1 {
                throw LabelError.ambiguous(spec: trimmed, candidates: found.prefix(8).map(candidate), total: found.count)
            }
        }
        throw LabelError.unknown(spec: trimmed, closest: closest(to: query, limit: 8).map(candidate))
    }

    private func candidate(_ index: Int) -> LabelError.Candidate { .init(index: index, name: names[index]) }

    /// The `limit` classes whose nearest synonym is fewest edits from `query` (ties: lower index first).
    private func closest(to query: String, limit: Int) -> [Int] {
        let q = Array(query)
        let distances = synonyms.map { list in list.map { Self.editDistance(q, Array($0)) }.min() ?? Int.max }
        return distances.indices.sorted { (distances[$0], $0) < (distances[$1], $1) }.prefix(limit).map { $0 }
    }

    static func normalised(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "_", with: " ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Levenshtein distance (insert, delete, substitute: 1 each), one row at a time.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// What can go wrong reading the ImageNet class names or resolving a class; each message says how to fix it.
public enum LabelError: Error, CustomStringConvertible, Equatable {
    /// A class offered in a message: its index and full name.
    public struct Candidate: Sendable, Equatable {
        public let index: Int
        public let name: String
    }

    case missingFile(path: String)
    case unreadable(path: String, reason: String)
    case wrongLineCount(path: String, count: Int)
    case emptyLine(path: String, line: Int)
    case indexOutOfRange(spec: String, count: Int)
    case emptySpec
    /// `total` classes match; `candidates` are the first (at most 8) of them.
    case ambiguous(spec: String, candidates: [Candidate], total: Int)
    case unknown(spec: String, closest: [Candidate])

    public var description: String {
        let refetch = "delete it and run `make photos` to fetch it again"
        func list(_ candidates: [Candidate]) -> String {
            candidates.map { "\($0.index) (\($0.name))" }.joined(separator: "; ")
        }
        switch self {
        case let .missingFile(path):
            return "the ImageNet class names are not at \(path); run `make photos` (Scripts/fetch-photos.sh)"
        case let .unreadable(path, reason):
            return "\(path): \(reason); \(refetch)"
        case let .wrongLineCount(path, count):
            return "\(path): expected \(ImageNetLabels.classCount) ImageNet class names, one a line, found \(count); \(refetch)"
        case let .emptyLine(path, line):
            return "\(path): line \(line) is empty, but every one of the \(ImageNetLabels.classCount) lines names a class; \(refetch)"
        case let .indexOutOfRange(spec, count):
            return "class index \(spec) is out of range: ImageNet classes are 0-\(count - 1)"
        case .emptySpec:
            return "no class given: name an ImageNet class (e.g. goldfish) or give its index 0-999"
        case let .ambiguous(spec, candidates, total):
            let more = total > candidates.count ? "; and \(total - candidates.count) more" : ""
            return "'\(spec)' matches \(total) ImageNet classes: \(list(candidates))\(more); "
                + "pick one by its index\(candidates.first.map { " (e.g. \($0.index))" } ?? "") or a longer name"
        case let .unknown(spec, closest):
            return "no ImageNet class matches '\(spec)'; closest: \(list(closest)); pick one by its index (0-999) or its name"
        }
    }
}
