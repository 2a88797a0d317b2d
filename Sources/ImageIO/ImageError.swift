/// Why an image could not be read, decoded, encoded or written; the message names the file and the reason.
///
/// `description` reads "photo.jpg: not a JPEG or PNG file (starts with 47 49 46 38: a GIF?)". Each case holds the
/// file (or a label for in-memory data) and the reason: what is wrong and, where useful, how to fix it.
public enum ImageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// Zero bytes.
    case empty(file: String, reason: String)
    /// Neither PNG nor JPEG by its first bytes.
    case unknownFormat(file: String, reason: String)
    /// The data ends before the image does.
    case truncated(file: String, reason: String)
    /// The codec refused the data.
    case corrupt(file: String, reason: String)
    /// Valid, but a kind we do not handle (e.g. 12-bit JPEG).
    case unsupported(file: String, reason: String)
    /// Over the decompression-bomb pixel limit.
    case tooLarge(file: String, reason: String)
    /// Encoding or writing the output failed.
    case writeFailed(file: String, reason: String)
    /// An operation was asked something impossible (e.g. crop larger than allowed).
    case invalidArgument(file: String, reason: String)

    /// The case without its values, for callers that count or branch on it (tests, exit codes).
    public enum Kind: String, Equatable, Sendable {
        case unreadable, empty, unknownFormat, truncated, corrupt, unsupported, tooLarge, writeFailed, invalidArgument
    }

    /// The error of `kind` about `file` (for code that picks the kind at run time).
    public init(file: String, kind: Kind, reason: String) {
        switch kind {
        case .unreadable: self = .unreadable(file: file, reason: reason)
        case .empty: self = .empty(file: file, reason: reason)
        case .unknownFormat: self = .unknownFormat(file: file, reason: reason)
        case .truncated: self = .truncated(file: file, reason: reason)
        case .corrupt: self = .corrupt(file: file, reason: reason)
        case .unsupported: self = .unsupported(file: file, reason: reason)
        case .tooLarge: self = .tooLarge(file: file, reason: reason)
        case .writeFailed: self = .writeFailed(file: file, reason: reason)
        case .invalidArgument: self = .invalidArgument(file: file, reason: reason)
        }
    }

    private var parts: (kind: Kind, file: String, reason: String) {
        switch self {
        case let .unreadable(file, reason): return (.unreadable, file, reason)
        case let .empty(file, reason): return (.empty, file, reason)
        case let .unknownFormat(file, reason): return (.unknownFormat, file, reason)
        case let .truncated(file, reason): return (.truncated, file, reason)
        case let .corrupt(file, reason): return (.corrupt, file, reason)
        case let .unsupported(file, reason): return (.unsupported, file, reason)
        case let .tooLarge(file, reason): return (.tooLarge, file, reason)
        case let .writeFailed(file, reason): return (.writeFailed, file, reason)
        case let .invalidArgument(file, reason): return (.invalidArgument, file, reason)
        }
    }

    public var kind: Kind { parts.kind }
    /// The file (or a label for in-memory data) the error concerns.
    public var file: String { parts.file }
    /// What is wrong and, where useful, how to fix it (without the file name).
    public var reason: String { parts.reason }

    /// The same error about another file (an encoder's error, once the caller knows where it was writing).
    public func about(_ file: String) -> ImageError { ImageError(file: file, kind: kind, reason: reason) }

    public var description: String { "\(file): \(reason)" }
}
