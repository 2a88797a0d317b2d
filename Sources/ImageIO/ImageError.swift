/// Why an image could not be read, decoded, encoded or written; the message names the file and the reason.
///
/// `description` reads "photo.jpg: not a JPEG or PNG file (starts with 47 49 46 38: a GIF?)".
public struct ImageError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The broad class of failure, for callers that branch on it (tests, exit codes).
    public enum Kind: String, Equatable, Sendable {
        case unreadable      // the file could not be opened or read
        case empty           // zero bytes
        case unknownFormat   // neither PNG nor JPEG by its first bytes
        case truncated       // the data ends before the image does
        case corrupt         // the codec refused the data
        case unsupported     // valid, but a kind we do not handle (e.g. 12-bit JPEG)
        case tooLarge        // over the decompression-bomb pixel limit
        case writeFailed     // encoding or writing the output failed
        case invalidArgument // an operation was asked something impossible (e.g. crop larger than allowed)
    }

    /// The file (or a label for in-memory data) the error concerns.
    public var file: String
    /// The class of failure.
    public var kind: Kind
    /// What is wrong and, where useful, how to fix it (without the file name).
    public var reason: String

    /// An error about `file`.
    public init(file: String, kind: Kind, reason: String) {
        self.file = file
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
