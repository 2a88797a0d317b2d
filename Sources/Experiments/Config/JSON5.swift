import Foundation
import Visualization

/// A parsed JSON5 value, with the line it started on (for error messages).
///
/// The subset we read: JSON plus `//` and `/* */` comments, trailing commas, unquoted identifier keys and
/// single-quoted strings. Not supported (refused with a message): hexadecimal numbers, `+`/`.5`/`Infinity`/`NaN`,
/// multi-line strings.
public indirect enum JSON5Value: Equatable {
    case object([(key: String, value: JSON5Value, line: Int)])
    case array([JSON5Value])
    case string(String)
    case number(Double, text: String)
    case bool(Bool)
    case null

    public static func == (a: JSON5Value, b: JSON5Value) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.number(x, _), .number(y, _)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// What a value is, for "expected a list, found a string" messages.
    public var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "a list"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "true/false"
        case .null: return "null"
        }
    }
}

/// Parses the JSON5 subset above; errors carry the file name and line.
public struct JSON5Parser {
    private let chars: [Character]
    private let file: String
    private var position = 0
    private var line = 1
    private var depth = 0
    /// Objects and lists nest at most this deep: the parser recurses per level, so a deeper file (50,000 levels
    /// overflowed the stack) is refused long before the stack runs out. Configs nest 3 levels.
    public static let maxDepth = 256

    /// Parses `text` (from `file`, named in errors) into one value; anything after it but comments is an error.
    public static func parse(_ text: String, file: String) throws -> JSON5Value {
        var parser = JSON5Parser(chars: Array(text), file: file)
        try parser.skipSpaceAndComments()
        let value = try parser.parseValue()
        try parser.skipSpaceAndComments()
        if parser.position < parser.chars.count {
            throw parser.error("unexpected '\(parser.chars[parser.position])' after the top-level value")
        }
        return value
    }

    private init(chars: [Character], file: String) {
        self.chars = chars
        self.file = file
    }

    private func error(_ reason: String) -> ExperimentError {
        ExperimentError.syntax(file: file, line: line, reason: reason)
    }

    private var current: Character? { position < chars.count ? chars[position] : nil }

    private mutating func advance() {
        if chars[position] == "\n" { line += 1 }
        position += 1
    }

    private mutating func skipSpaceAndComments() throws {
        while let c = current {
            if c.isWhitespace || c == "\u{FEFF}" {
                advance()
            } else if c == "/", position + 1 < chars.count, chars[position + 1] == "/" {
                while let d = current, d != "\n" { advance() }
            } else if c == "/", position + 1 < chars.count, chars[position + 1] == "*" {
                let startLine = line
                advance(); advance()
                while true {
                    guard let d = current else {
                        throw ExperimentError.syntax(file: file, line: startLine, reason: "the /* comment opened here is never closed")
                    }
                    if d == "*", position + 1 < chars.count, chars[position + 1] == "/" { advance(); advance(); break }
                    advance()
                }
            } else {
                return
            }
        }
    }

    private mutating func parseValue() throws -> JSON5Value {
        guard let c = current else { throw error("the file ends where a value was expected") }
        switch c {
        case "{", "[":
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else {
                throw error("objects and lists nest more than \(Self.maxDepth) levels deep here; a config needs only a few")
            }
            return c == "{" ? try parseObject() : try parseArray()
        case "\"", "'": return .string(try parseString())
        case "-", "0"..."9": return try parseNumber()
        default:
            let word = readIdentifier()
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            case "": throw error("unexpected '\(c)' where a value was expected")
            default: throw error("'\(word)' is not a value; quote strings ('\(word)')")
            }
        }
    }

    private mutating func parseObject() throws -> JSON5Value {
        advance()  // {
        var members: [(key: String, value: JSON5Value, line: Int)] = []
        while true {
            try skipSpaceAndComments()
            guard let c = current else { throw error("the file ends inside an object; a '}' is missing") }
            if c == "}" { advance(); return .object(members) }
            let keyLine = line
            let key: String
            if c == "\"" || c == "'" {
                key = try parseString()
            } else {
                key = readIdentifier()
                if key.isEmpty { throw error("unexpected '\(c)' where a key was expected") }
            }
            if members.contains(where: { $0.key == key }) { throw error("the key '\(key)' appears twice") }
            try skipSpaceAndComments()
            guard current == ":" else { throw error("a ':' is missing after the key '\(key)'") }
            advance()
            try skipSpaceAndComments()
            members.append((key, try parseValue(), keyLine))
            try skipSpaceAndComments()
            if current == "," { advance(); continue }
            if current == "}" { advance(); return .object(members) }
            throw error("a ',' or '}' is missing after the value of '\(key)'")
        }
    }

    private mutating func parseArray() throws -> JSON5Value {
        advance()  // [
        var items: [JSON5Value] = []
        while true {
            try skipSpaceAndComments()
            guard let c = current else { throw error("the file ends inside a list; a ']' is missing") }
            if c == "]" { advance(); return .array(items) }
            items.append(try parseValue())
            try skipSpaceAndComments()
            if current == "," { advance(); continue }
            if current == "]" { advance(); return .array(items) }
            throw error("a ',' or ']' is missing in a list")
        }
    }

    private mutating func parseString() throws -> String {
        let quote = chars[position]
        advance()
        var out = ""
        while true {
            guard let c = current, c != "\n" else { throw error("a string is not closed on its line (missing \(quote))") }
            advance()
            if c == quote { return out }
            if c != "\\" { out.append(c); continue }
            guard let e = current else { throw error("the file ends inside a string") }
            advance()
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "b": out.append("\u{8}")
            case "f": out.append("\u{C}")
            case "0": out.append("\0")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let h = current { hex.append(h); advance() } }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw error("'\\u\(hex)' is not a valid escape")
                }
                out.append(Character(scalar))
            default: out.append(e)  // \" \' \\ \/ and any other escaped character stand for themselves
            }
        }
    }

    private mutating func parseNumber() throws -> JSON5Value {
        var text = ""
        while let c = current, c == "-" || c == "+" || c == "." || c == "e" || c == "E" || c.isNumber || c == "x" || c == "X" {
            text.append(c)
            advance()
        }
        guard !text.lowercased().contains("x"), let value = Double(text), value.isFinite else {
            throw error("'\(text)' is not a number this reader understands (use decimal, e.g. 0.05 or 128)")
        }
        return .number(value, text: text)
    }

    private mutating func readIdentifier() -> String {
        var word = ""
        while let c = current, c.isLetter || c.isNumber || c == "_" || c == "$" {
            word.append(c)
            advance()
        }
        return word
    }
}
