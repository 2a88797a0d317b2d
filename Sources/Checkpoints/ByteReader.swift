import Foundation

/// A bounds-checked cursor over bytes: every read past the end throws instead of trapping.
struct ByteReader {
    let data: Data
    /// Offset from the start of `data` (not `data.startIndex`).
    private(set) var position = 0

    init(_ data: Data) { self.data = data }

    var count: Int { data.count }
    var remaining: Int { data.count - position }
    var isAtEnd: Bool { position >= data.count }

    /// Throws unless `n` more bytes are available.
    func require(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw CheckpointError.truncated(what: what(), needed: n, offset: position, remaining: remaining)
        }
    }

    mutating func seek(to offset: Int) throws {
        guard offset >= 0, offset <= data.count else {
            throw CheckpointError.offsetOutOfRange(offset: offset, size: data.count)
        }
        position = offset
    }

    mutating func skip(_ n: Int, _ what: @autoclosure () -> String = "a field") throws {
        try require(n, what())
        position += n
    }

    mutating func u8(_ what: @autoclosure () -> String = "a byte") throws -> UInt8 {
        try require(1, what())
        defer { position += 1 }
        return data[data.startIndex + position]
    }

    /// `n` bytes as a slice sharing the underlying buffer (no copy).
    mutating func bytes(_ n: Int, _ what: @autoclosure () -> String = "a byte string") throws -> Data {
        try require(n, what())
        defer { position += n }
        let start = data.startIndex + position
        return data[start..<(start + n)]
    }

    /// A little-endian unsigned integer of `width` bytes (at most 8).
    mutating func uintLE(_ width: Int, _ what: @autoclosure () -> String = "an integer") throws -> UInt64 {
        try require(width, what())
        var value: UInt64 = 0
        let start = data.startIndex + position
        for i in 0..<width { value |= UInt64(data[start + i]) << (8 * UInt64(i)) }
        position += width
        return value
    }

    // Widths up to 4 bytes always fit in Int on the 64-bit platforms Swift on Linux runs on.
    mutating func u16(_ what: @autoclosure () -> String = "an integer") throws -> Int { Int(truncatingIfNeeded: try uintLE(2, what())) }
    mutating func u32(_ what: @autoclosure () -> String = "an integer") throws -> Int { Int(truncatingIfNeeded: try uintLE(4, what())) }
    mutating func i32(_ what: @autoclosure () -> String = "an integer") throws -> Int {
        Int(Int32(truncatingIfNeeded: try uintLE(4, what())))
    }
    mutating func u64(_ what: @autoclosure () -> String = "an integer") throws -> UInt64 { try uintLE(8, what()) }

    /// Reads bytes up to (not including) `terminator`, consuming it; used by text pickle opcodes.
    mutating func line(_ what: @autoclosure () -> String = "a text line", terminator: UInt8 = 0x0A) throws -> Data {
        let start = data.startIndex + position
        guard let end = data[start...].firstIndex(of: terminator) else {
            throw CheckpointError.unterminatedLine(what: what(), offset: position)
        }
        position = end - data.startIndex + 1
        return data[start..<end]
    }
}
