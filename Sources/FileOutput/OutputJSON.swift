import Foundation

/// A JSON file the toolkit writes: its top-level object carries `"schema": "<kind>/<version>"`
/// (e.g. `filtervis.visualize.manifest/2`) so a reader can tell what it holds before trusting any field.
public protocol OutputDocument: Codable {
    static var schema: String { get }
}

/// Why a JSON file the toolkit wrote cannot be read back; names the file and what to do.
public enum OutputJSONError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The `schema` field is missing or names another kind or version.
    case wrongSchema(file: String, expected: String, found: String?)
    /// Not JSON, or not the shape of the expected kind.
    case unreadable(file: String, expected: String, reason: String)

    public var description: String {
        switch self {
        case .wrongSchema(let file, let expected, let found):
            "\(file): is \(found.map { "a \($0) file" } ?? "not a filtervis file (no \"schema\" field)"), not \(expected); "
                + "rewrite it with this filtervis version"
        case .unreadable(let file, let expected, let reason):
            "\(file): not a readable \(expected) file (\(reason)); rewrite it with this filtervis version"
        }
    }
}

/// The one JSON convention of every file the toolkit writes: snake_case keys (from the Swift names; dictionary
/// keys such as layer names and paths are data and stay as they are), the `schema` field of `OutputDocument`,
/// pretty-printed with sorted keys and unescaped slashes, a final newline, and non-finite floats as the strings
/// "inf", "-inf" and "nan". The same bytes for the same value, so reruns and shards compare by hash.
public enum OutputJSON {
    static let infinity = "inf", minusInfinity = "-inf", nan = "nan"

    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: infinity, negativeInfinity: minusInfinity, nan: nan)
        return encoder
    }

    /// Reads what `encoder` writes. camelCase keys without underscores read as they are, so a key the Swift type
    /// spells with an acronym (`imageSHA256`) declares its coding key as `imageSha256`.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: infinity, negativeInfinity: minusInfinity, nan: nan)
        return decoder
    }

    /// A document with its `schema` field, then a newline.
    public static func encode<T: OutputDocument>(_ value: T) throws -> [UInt8] {
        Array(try encoder.encode(Tagged(value: value))) + [10]
    }

    /// A value that is part of a document (no `schema` field of its own), then a newline.
    public static func encodePart<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder.encode(value)) + [10]
    }

    /// Decodes a document, refusing one whose `schema` is not `T.schema`; `file` names it in errors.
    public static func decode<T: OutputDocument>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let header: Header
        do { header = try decoder.decode(Header.self, from: data) } catch {
            throw OutputJSONError.unreadable(file: file, expected: T.schema, reason: "not a JSON object")
        }
        guard header.schema == T.schema else { throw OutputJSONError.wrongSchema(file: file, expected: T.schema, found: header.schema) }
        do { return try decoder.decode(T.self, from: data) } catch {
            throw OutputJSONError.unreadable(file: file, expected: T.schema, reason: describe(error))
        }
    }

    private struct Header: Decodable { var schema: String? }

    private enum SchemaKey: String, CodingKey { case schema }

    /// Encodes the value's own keys and `schema` into the same object.
    private struct Tagged<T: OutputDocument>: Encodable {
        let value: T
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: SchemaKey.self)
            try container.encode(T.schema, forKey: .schema)
            try value.encode(to: encoder)
        }
    }

    /// One line: which key is wrong and how.
    static func describe(_ error: Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "missing \(path(context).isEmpty ? "" : path(context) + ".")\(key.stringValue)"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            return "\(path(context)): \(context.debugDescription)"
        default: return String(describing: error)
        }
    }
}
