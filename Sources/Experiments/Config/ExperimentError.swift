/// A problem with an experiment's config or its output folder, naming the file (and line) and how to fix it.
public enum ExperimentError: Error, Equatable, CustomStringConvertible {
    /// The config file cannot be read as text.
    case unreadable(file: String, reason: String)
    /// The JSON5 text is malformed at `line`.
    case syntax(file: String, line: Int, reason: String)
    /// A key or value of the config is wrong (at `line` when the parser knows it).
    case badValue(file: String, line: Int?, reason: String)
    /// A file the experiment wrote earlier is missing or unreadable.
    case output(file: String, reason: String)
    /// The folder's assembly lock cannot be made.
    case lock(file: String, reason: String)

    /// The file the message names.
    public var file: String {
        switch self {
        case let .unreadable(file, _), let .syntax(file, _, _), let .badValue(file, _, _), let .output(file, _), let .lock(file, _):
            return file
        }
    }

    /// The line of the config, when known.
    public var line: Int? {
        switch self {
        case let .syntax(_, line, _): return line
        case let .badValue(_, line, _): return line
        default: return nil
        }
    }

    public var description: String {
        let reason: String
        switch self {
        case let .unreadable(_, r), let .syntax(_, _, r), let .badValue(_, _, r), let .output(_, r), let .lock(_, r): reason = r
        }
        return line.map { "\(file):\($0): \(reason)" } ?? "\(file): \(reason)"
    }
}
