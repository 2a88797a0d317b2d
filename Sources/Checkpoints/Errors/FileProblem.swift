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
    case missingDirectory(String)
    case cannotWrite(directory: String, reason: String)
    case cannotRename(reason: String)

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
        case .missingDirectory(let directory): return "cannot write: the directory \(directory) does not exist (create it first)"
        case let .cannotWrite(directory, reason):
            return "cannot write into \(directory) (\(reason)); is it writable, and is there space left?"
        case .cannotRename(let reason): return "cannot move the finished file into place: \(reason)"
        }
    }
}
