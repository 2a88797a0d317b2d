import Foundation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Why a command's output cannot be written; one line that names the folder (or file) and what to do.
public enum OutputError: Error, CustomStringConvertible {
    case notWritable(path: String, reason: String)
    case notAFolder(path: String)
    case mountPoint(path: String)
    case isAFolder(path: String)
    case foreignFile(folder: String, file: String, layout: OutputLayout)
    case diskFull(folder: String, file: String)
    case writeFailed(folder: String, file: String, reason: String)
    case cannotReplace(folder: String, reason: String)

    public var description: String {
        switch self {
        case .notWritable(let path, let reason):
            "\(path): cannot write to this output folder (\(reason)); choose another --out"
        case .notAFolder(let path):
            "\(path): is a file, not a folder; choose another --out"
        case .mountPoint(let path):
            "\(path): is a mount point, which cannot be replaced as a whole; give a folder inside it, e.g. \(path)/out"
        case .isAFolder(let path):
            "\(path): is a folder; give the name of the file to write"
        case .foreignFile(let folder, let file, let layout):
            "\(folder): holds \(file), which `filtervis \(layout.command)` did not write; the output folder is replaced "
                + "as a whole, so give a new or empty folder, or one holding only an earlier \(layout.command) run (\(layout.files))"
        case .diskFull(let folder, let file):
            "\(folder): the disk is full (no space left on device while writing \(file)); nothing there was changed. "
                + "Free some space or choose another output"
        case .writeFailed(let folder, let file, let reason):
            "\(folder): cannot write \(file) (\(reason)); nothing there was changed"
        case .cannotReplace(let folder, let reason):
            "\(folder): cannot put the new outputs in place (\(reason)); nothing there was changed"
        }
    }

    /// The error for a failed write of `file` (relative to the output) into the folder the user named.
    public static func writing(_ file: String, in folder: String, _ error: FileWriteError) -> OutputError {
        switch error {
        case .diskFull: .diskFull(folder: folder, file: file)
        case .folderMissing: .writeFailed(folder: folder, file: file, reason: "its folder vanished during the run")
        case .failed(_, _, let reason): .writeFailed(folder: folder, file: file, reason: reason)
        }
    }
}

/// What a command writes into its output folder, so that an earlier run's files are told apart from anyone else's.
public struct OutputLayout: Sendable {
    /// The subcommand, for messages ("visualize").
    public let command: String
    /// The files, for messages ("filter_NNNN.png, grid.png, manifest.json").
    public let files: String
    /// Whether an entry (path components relative to the folder) is one the command writes.
    public let owns: @Sendable (_ components: [String], _ isDirectory: Bool) -> Bool
    /// Files every complete earlier run has (a non-empty folder without them is someone else's).
    public var required: [String] = []

    public init(command: String, files: String,
                owns: @escaping @Sendable (_ components: [String], _ isDirectory: Bool) -> Bool, required: [String] = []) {
        self.command = command
        self.files = files
        self.required = required
        self.owns = owns
    }

    /// `prefix` + `numbers` groups of digits joined by "_" + `suffix`: numbered("filter_0003.png", "filter_", 1, ".png").
    public static func numbered(_ name: String, _ prefix: String, _ numbers: Int, _ suffix: String) -> Bool {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return false }
        let groups = name.dropFirst(prefix.count).dropLast(suffix.count).split(separator: "_", omittingEmptySubsequences: false)
        return groups.count == numbers && groups.allSatisfy { !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }
    }
}

/// A command's output folder, replaced as a whole: the run's files are written into a temporary sibling
/// (`.NAME.tmp-PID-RANDOM`, same file system) that is renamed into place when all are written (the earlier folder
/// renamed aside first, then removed). A failed or killed run leaves the earlier outputs as they were; the next
/// run removes what a killed one left behind. A folder holding files the command did not write is refused.
public enum OutputFolder {
    /// Before any work: `dir` is a folder or absent, holds only `layout`'s files, and a sibling can be created in its
    /// parent (created if missing). Cleans up after killed runs: their temporary folders are removed, and an
    /// earlier folder moved aside by a run killed between its two renames is put back.
    public static func prepare(_ dir: URL, for layout: OutputLayout) throws {
        let target = resolved(dir), display = dir.path
        let parent = target.deletingLastPathComponent()
        if target.path == "/" { throw OutputError.notWritable(path: display, reason: "the root folder cannot be replaced") }
        if exists(target) && !isFolder(target) { throw OutputError.notAFolder(path: display) }
        // rename(2) cannot move a mount point, and the temporary sibling would be on another file system.
        if let own = device(target), let parents = device(parent), own != parents {
            throw OutputError.mountPoint(path: display)
        }
        do { try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw OutputError.notWritable(path: display, reason: "cannot create \(parent.path): \(error.localizedDescription)")
        }
        var previous = TemporaryName.stale(in: parent, for: target.lastPathComponent, kind: .previous)
        if !exists(target), let newest = previous.last, rename(newest.path, target.path) == 0 { previous.removeLast() }
        for url in previous { try? FileManager.default.removeItem(at: url) }
        TemporaryName.removeStale(besides: target)
        try checkOwnership(target, display: display, layout: layout)
        let probe = parent.appendingPathComponent(TemporaryName.make(for: target.lastPathComponent, kind: .file))
        guard mkdir(probe.path, 0o777) == 0 else {
            throw OutputError.notWritable(path: display, reason: "cannot create a folder in \(parent.path): \(String(cString: strerror(errno)))")
        }
        rmdir(probe.path)
    }

    /// Runs `body` to write the run's files into a temporary folder, then puts that folder in place of `dir`.
    /// On any failure the temporary folder is removed and `dir` is left as it was.
    public static func replace(_ dir: URL, for layout: OutputLayout, _ body: (OutputStaging) throws -> Void) throws {
        let target = resolved(dir), display = dir.path
        let parent = target.deletingLastPathComponent()
        let staging = OutputStaging(root: parent.appendingPathComponent(TemporaryName.make(for: target.lastPathComponent, kind: .file)),
                                    display: display)
        guard mkdir(staging.root.path, 0o777) == 0 else {
            throw OutputError.writing("a temporary folder beside it", in: display, .from(errno: errno, writing: staging.root))
        }
        do {
            try body(staging)
            try commit(staging.root, to: target, display: display, layout: layout)
        } catch {
            try? FileManager.default.removeItem(at: staging.root)
            throw error
        }
    }

    /// Renames the complete `staging` folder to `target`, moving an earlier `target` aside first and removing it after.
    private static func commit(_ staging: URL, to target: URL, display: String, layout: OutputLayout) throws {
        func failure(_ what: String) -> OutputError { .cannotReplace(folder: display, reason: "\(what): \(String(cString: strerror(errno)))") }
        guard exists(target) else {
            guard rename(staging.path, target.path) == 0 else { throw failure("rename") }
            return
        }
        // Checked again: files may have been put there while the run worked.
        try checkOwnership(target, display: display, layout: layout)
        let aside = target.deletingLastPathComponent().appendingPathComponent(TemporaryName.make(for: target.lastPathComponent, kind: .previous))
        guard rename(target.path, aside.path) == 0 else { throw failure("moving the earlier outputs aside") }
        guard rename(staging.path, target.path) == 0 else {
            let error = failure("rename")
            rename(aside.path, target.path)
            throw error
        }
        // A failure here only leaves the moved-aside folder, which the next run removes.
        try? FileManager.default.removeItem(at: aside)
    }

    /// Refuses `folder` if it holds anything `layout` does not own (the first such file is named).
    private static func checkOwnership(_ folder: URL, display: String, layout: OutputLayout) throws {
        guard exists(folder) else { return }
        let top = try listing(folder, display: display)
        // Without the file every run writes, the folder is not an earlier run's (named by its first file).
        if !top.isEmpty, layout.required.contains(where: { !top.contains($0) }) {
            throw OutputError.foreignFile(folder: display, file: top.sorted()[0], layout: layout)
        }
        func walk(_ url: URL, _ components: [String]) throws {
            for name in try listing(url, display: display).sorted() {
                let child = url.appendingPathComponent(name), path = components + [name]
                let directory = isFolder(child)
                // Temporaries of earlier filtervis versions (".NAME.HOST.PID.RANDOM.tmp") are ours too.
                let leftover = name.hasPrefix(".") && name.hasSuffix(".tmp") && !directory
                guard leftover || layout.owns(path, directory) else {
                    throw OutputError.foreignFile(folder: display, file: path.joined(separator: "/"), layout: layout)
                }
                if directory { try walk(child, path) }
            }
        }
        try walk(folder, [])
    }

    private static func listing(_ folder: URL, display: String) throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw OutputError.notWritable(path: display, reason: "cannot list \(folder.path): \(error.localizedDescription)")
        }
    }

    /// The folder that is replaced: absolute, without "." or "..", symbolic links resolved (so a link to a folder
    /// keeps pointing at it and the folder it names is replaced).
    public static func resolved(_ dir: URL) -> URL {
        let url = URL(fileURLWithPath: dir.path).standardizedFileURL
        return exists(url) ? url.resolvingSymlinksInPath() : url
    }

    /// The file system `url` is on (nil if it does not exist).
    private static func device(_ url: URL) -> UInt64? {
        var info = stat()
        return stat(url.path, &info) == 0 ? UInt64(info.st_dev) : nil
    }

    public static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    public static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// For folders written in place, file by file (experiments, which resume): created if missing and proven
    /// writable before any work starts.
    public static func prepare(_ dir: URL) throws {
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let probe = dir.appendingPathComponent(".filtervis-write-test-\(ProcessInfo.processInfo.processIdentifier)")
            try Data().write(to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw OutputError.notWritable(path: dir.path, reason: error.localizedDescription)
        }
    }
}

/// The temporary folder a run writes into; errors name the output folder the user gave, not the temporary one.
/// Experiments' `ResultWriter` writes the files into it.
public struct OutputStaging: Sendable {
    public let root: URL
    public let display: String
}

/// A command's single output file (card, image convert/grid): written to a temporary sibling and renamed into place,
/// so a failed or killed run leaves the earlier file as it was; temporaries of killed runs are removed first.
public enum OutputFile {
    /// Before any work: the parent folder exists (created if missing) and is writable, and `url` is not a folder.
    public static func prepare(_ url: URL) throws {
        if OutputFolder.isFolder(url) { throw OutputError.isAFolder(path: url.path) }
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw OutputError.notWritable(path: folder.path, reason: error.localizedDescription)
        }
        let probe = folder.appendingPathComponent(TemporaryName.make(for: url.lastPathComponent, kind: .file))
        guard mkdir(probe.path, 0o777) == 0 else {
            throw OutputError.notWritable(path: folder.path, reason: String(cString: strerror(errno)))
        }
        rmdir(probe.path)
    }

    /// Writes `bytes` atomically to `url`, removing the temporaries killed runs left beside it first.
    public static func write(_ bytes: some ContiguousBytes, to url: URL) throws {
        if OutputFolder.isFolder(url) { throw OutputError.isAFolder(path: url.path) }
        TemporaryName.removeStale(besides: url)
        do { try AtomicFile.write(bytes, to: url) } catch let error as FileWriteError {
            throw OutputError.writing(url.lastPathComponent, in: url.deletingLastPathComponent().path, error)
        }
    }
}
