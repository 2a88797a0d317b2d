/// A checkpoint that cannot be read, written or imported: says which file and what is wrong.
///
/// Parsers deep inside a format throw it without a file name; the public entry points
/// (`Checkpoint.load`, `SafeTensors.write`, `WeightImport`) attach the file so the message reads
/// `x.pth: refuses to load the global 'os.system': ...`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file's name (last path component), or nil while parsing bytes not yet tied to a file.
    public var file: String?
    /// What is wrong and, where possible, how to fix it.
    public var reason: String

    /// An error about `file` (nil: not yet known) saying `reason`.
    public init(file: String? = nil, _ reason: String) {
        self.file = file
        self.reason = reason
    }

    /// `file: reason`, or just the reason.
    public var description: String { file.map { "\($0): \(reason)" } ?? reason }

    /// The same error tied to `file` (kept if it already names one).
    func inFile(_ file: String) -> CheckpointError {
        self.file == nil ? CheckpointError(file: file, reason) : self
    }
}

/// Runs `body`, naming `path`'s file in any `CheckpointError` it throws.
func withFileName<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CheckpointError {
        throw error.inFile(fileName(path))
    }
}

/// The last path component, as errors name files.
func fileName(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}
