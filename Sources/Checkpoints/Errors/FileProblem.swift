import FileOutput
import Foundation

/// Why a checkpoint file could not be opened, read or written.
public enum FileProblem: Equatable, Sendable {
    case noSuchFile(path: String)
    case isDirectory
    /// A FIFO, socket or device: reading one could block forever, so it is never opened.
    case notRegularFile(kind: String)
    case notReadable
    /// The system refused to map or read it (`reason` is the system's own words).
    case unreadable(size: Int?, reason: String)
    case readFailed(reason: String)
    /// Writing failed (a missing folder, a full disk, ...); nothing was left behind.
    case writeFailed(FileWriteError)

    public var description: String {
        switch self {
        case .noSuchFile(let path): return "no such file (\(path))"
        case .isDirectory: return "is a directory, not a checkpoint file"
        case .notRegularFile(let kind):
            return "is a \(kind), not a regular file; checkpoints are read only from regular files (copy it to one first)"
        case .notReadable: return "cannot be opened: permission denied (check the file's permissions)"
        case let .unreadable(size, reason):
            return "cannot be read" + (size.map { " (\($0) bytes)" } ?? "") + ": \(reason)"
        case .readFailed(let reason): return "read failed: \(reason)"
        case .writeFailed(let error): return error.reason
        }
    }
}

/// The operating system's own words for a failed file operation, not Foundation's "error 256" wrapper.
func systemReason(_ error: Error) -> String {
    let nsError = error as NSError
    if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code)))
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
    return nsError.localizedFailureReason ?? nsError.localizedDescription
}
