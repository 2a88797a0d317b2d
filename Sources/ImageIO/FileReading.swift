import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a user's file could not be read, in the toolkit's own words (never a Foundation error code).
public enum FileReadError: Error, Equatable, CustomStringConvertible, Sendable {
    case missing(path: String)
    case directory(path: String)
    /// A FIFO, socket or device: opening or reading it could block forever, so it is never opened.
    case notRegular(path: String, kind: String)
    case tooLarge(path: String, bytes: Int, limit: Int)
    case permissionDenied(path: String)
    case failed(path: String, reason: String)

    public var path: String {
        switch self {
        case let .missing(p), let .directory(p), let .notRegular(p, _), let .tooLarge(p, _, _), let .permissionDenied(p),
             let .failed(p, _):
            return p
        }
    }

    /// The reason without the path (callers that name the file themselves use this).
    public var reason: String {
        switch self {
        case .missing: return "no such file"
        case .directory: return "is a directory, not a file"
        case let .notRegular(_, kind): return "not a regular file (a \(kind)); only regular files are read"
        case let .tooLarge(_, bytes, limit):
            return "the file is \(FileReading.describe(bytes)), larger than the \(FileReading.describe(limit)) limit for this kind of file"
        case .permissionDenied: return "permission denied (check the file's read permission)"
        case let .failed(_, reason): return "cannot read it (\(reason))"
        }
    }

    public var description: String { "\(path): \(reason)" }
}

/// Reads user files safely: only regular files (checked with stat before opening, opened non-blocking so even a
/// file swapped for a FIFO in between cannot hang), and only up to a size limit checked before reading.
public enum FileReading {
    /// Image files larger than this are refused before reading (a photo at the default pixel limit is ~0.5 GB raw).
    public static let imageLimit = 1 << 30
    /// Config and index files: text, a few MB at most.
    public static let textLimit = 256 << 20

    /// "What kind of file" a path is, without opening it: nil for a regular file (symbolic links followed).
    public static func specialKind(atPath path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        default: return "special file"
        }
    }

    /// The whole file, or a `FileReadError` saying what is wrong.
    public static func bytes(of url: URL, limit: Int) throws -> [UInt8] {
        try readFile(url.path, limit: limit, prefix: nil)
    }

    /// The first `count` bytes (fewer if the file is shorter); the same checks, no size limit.
    public static func head(of url: URL, count: Int) throws -> [UInt8] {
        try readFile(url.path, limit: .max, prefix: count)
    }

    static func readFile(_ path: String, limit: Int, prefix: Int?) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw error(errno, path: path) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { throw FileReadError.directory(path: path) }
        if let kind = specialKind(atPath: path) { throw FileReadError.notRegular(path: path, kind: kind) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw error(errno, path: path) }
        defer { close(fd) }
        // Check again on the open descriptor: the path may have been replaced since the stat.
        guard fstat(fd, &info) == 0 else { throw error(errno, path: path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FileReadError.notRegular(path: path, kind: "special file") }
        let size = Int(info.st_size)
        if prefix == nil, size > limit { throw FileReadError.tooLarge(path: path, bytes: size, limit: limit) }
        let wanted = prefix.map { min($0, size) } ?? size
        var out = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, wanted - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error(errno, path: path)
            }
            if n == 0 { break }   // the file shrank while reading
            done += n
        }
        if done < wanted { out.removeSubrange(done...) }
        return out
    }

    static func error(_ code: Int32, path: String) -> FileReadError {
        switch code {
        case ENOENT, ENOTDIR: return .missing(path: path)
        case EACCES, EPERM: return .permissionDenied(path: path)
        case EISDIR: return .directory(path: path)
        default: return .failed(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// 1,073,741,824 -> "1.0 GiB".
    static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= Double(1 << 30) { return String(format: "%.1f GiB", b / Double(1 << 30)) }
        if b >= Double(1 << 20) { return String(format: "%.1f MiB", b / Double(1 << 20)) }
        return "\(bytes) bytes"
    }
}
