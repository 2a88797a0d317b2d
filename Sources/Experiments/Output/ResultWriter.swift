import Checkpoints
import FileOutput
import Foundation
import ImageIO

/// The one writer of results: every file of `visualize`, `patches`, `run` (and `merge`) goes through it.
/// Each file is written atomically (`AtomicFile`), folders are created as needed, the sha256 of what was written
/// is returned (for done-records), JSON follows `OutputJSON`, and errors name the folder the user gave.
///
/// A command's folder replaced as a whole writes into the staged folder of `OutputFolder.replace` (`init(staging:)`);
/// an experiment, which resumes, writes into its folder in place (`init(root:)`).
public struct ResultWriter: Sendable {
    public let root: URL
    /// The folder named in errors (the user's --out, not a temporary one).
    public let display: String

    public init(root: URL, display: String? = nil) {
        self.root = root
        self.display = display ?? root.path
    }

    public init(staging: OutputStaging) { self.init(root: staging.root, display: staging.display) }

    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Writes bytes atomically (creating folders), returning their sha256. A file that already holds exactly these
    /// bytes is left alone, so experiment shards that all write the same file (config.json) do not race on it.
    @discardableResult
    public func write(_ bytes: [UInt8], to relative: String) throws -> String {
        let target = url(relative)
        if let existing = FileManager.default.contents(atPath: target.path), existing.elementsEqual(bytes) {
            return SHA256.hex(of: existing)
        }
        try makeFolders(for: target, relative: relative)
        do { try AtomicFile.write(bytes, to: target) } catch let error as FileWriteError {
            throw OutputError.writing(relative, in: display, error)
        }
        return SHA256.hex(of: Data(bytes))
    }

    /// Creates the folders above `target` (from the file system's root, each one that is missing).
    private func makeFolders(for target: URL, relative: String) throws {
        var path = URL(fileURLWithPath: "/")
        for component in target.deletingLastPathComponent().standardizedFileURL.pathComponents.dropFirst() {
            path.appendPathComponent(component)
            guard mkdir(path.path, 0o777) == 0 || errno == EEXIST else {
                throw OutputError.writing(relative, in: display, .from(errno: errno, writing: path))
            }
        }
    }

    /// Encodes PNG and writes it, returning the file's sha256.
    @discardableResult
    public func write(_ image: Image, to relative: String) throws -> String {
        try write(image.pngData(), to: relative)
    }

    /// Writes a document in the toolkit's JSON convention, returning the file's sha256.
    @discardableResult
    public func write<T: OutputDocument>(document: T, to relative: String) throws -> String {
        try write(OutputJSON.encode(document), to: relative)
    }

    /// Reads a document this writer wrote; errors name the file and say how to recreate it.
    public func read<T: OutputDocument>(_ type: T.Type, from relative: String) throws -> T {
        let file = url(relative)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ExperimentError.output(file: file.path, reason: "missing; rerun to recreate it")
        }
        return try OutputJSON.decode(type, from: data, file: file.path)
    }
}
