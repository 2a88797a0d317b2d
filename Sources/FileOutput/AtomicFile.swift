import Foundation
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#else
import Darwin
private let systemWrite = Darwin.write
#endif

/// Why a file could not be written; `description` names the folder, the file and what to do.
public enum FileWriteError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The folder to write into does not exist.
    case folderMissing(folder: String, file: String)
    /// The file system ran out of space (ENOSPC) or quota (EDQUOT).
    case diskFull(folder: String, file: String)
    /// Any other failure of open, write, close or rename, with the system's reason.
    case failed(folder: String, file: String, reason: String)

    public var folder: String {
        switch self { case .folderMissing(let f, _), .diskFull(let f, _), .failed(let f, _, _): f }
    }

    public var file: String {
        switch self { case .folderMissing(_, let f), .diskFull(_, let f), .failed(_, let f, _): f }
    }

    /// What is wrong, without the file name (for errors that name the file themselves).
    public var reason: String {
        switch self {
        case .folderMissing: "cannot write: the folder \(folder) does not exist (create it first)"
        case .diskFull: "cannot write: the disk is full in \(folder) (no space left on device); free some space or write elsewhere"
        case .failed(_, _, let reason): "cannot write into \(folder) (\(reason))"
        }
    }

    public var description: String { "\(file): \(reason)" }

    /// The error for `errno` value `code` while writing `url`.
    public static func from(errno code: Int32, writing url: URL) -> FileWriteError {
        let folder = url.deletingLastPathComponent().path, file = url.lastPathComponent
        switch code {
        case ENOSPC, EDQUOT: return .diskFull(folder: folder, file: file)
        case ENOENT: return .folderMissing(folder: folder, file: file)
        default: return .failed(folder: folder, file: file, reason: String(cString: strerror(code)))
        }
    }
}

/// Whole-file writes: bytes go to a temporary sibling (`.NAME.tmp-PID-RANDOM`), then rename(2) puts them in place,
/// so readers never see half a file and a failure leaves the earlier file untouched and no temporary behind.
/// A process killed mid-write leaves its temporary; `TemporaryName.removeStale` clears those of dead processes.
public enum AtomicFile {
    public static func write(_ bytes: some ContiguousBytes, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileWriteError.folderMissing(folder: folder.path, file: url.lastPathComponent)
        }
        let temporary = folder.appendingPathComponent(TemporaryName.make(for: url.lastPathComponent, kind: .file))
        do {
            try writeNew(bytes, to: temporary, reportingAs: url)
            // Same folder, so same file system: the rename replaces the target in one step.
            guard rename(temporary.path, url.path) == 0 else { throw FileWriteError.from(errno: errno, writing: url) }
        } catch {
            unlink(temporary.path)
            throw error
        }
    }

    /// Creates `url` (which must not exist) with `bytes`; errors name `target`, the file the caller means.
    private static func writeNew(_ bytes: some ContiguousBytes, to url: URL, reportingAs target: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw FileWriteError.from(errno: errno, writing: target) }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        // close can report a deferred write error (network file systems): it counts as a failed write.
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure != 0 { throw FileWriteError.from(errno: failure, writing: target) }
    }
}
