import Foundation

/// A protobuf wire-format reader: varints, length-delimited fields and fixed 32/64-bit values.
/// Unknown fields are skipped; every length is checked against the bytes that remain.
struct ProtobufReader {
    enum WireType: Int { case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5 }

    struct Field {
        var number: Int
        var wireType: WireType
    }

    private var reader: ByteReader
    var isAtEnd: Bool { reader.isAtEnd }

    init(_ data: Data) { reader = ByteReader(data) }

    /// The next field's key, or nil at the end of the message.
    mutating func nextField() throws -> Field? {
        if reader.isAtEnd { return nil }
        let key = try varint()
        guard let wireType = WireType(rawValue: Int(key & 7)) else {
            throw CheckpointError.protobuf(.invalidWireType(Int(key & 7), offset: reader.position))
        }
        guard key >> 3 > 0, key >> 3 < 1 << 29 else { throw CheckpointError.protobuf(.invalidFieldNumber(key >> 3)) }
        return Field(number: Int(key >> 3), wireType: wireType)
    }

    /// A base-128 varint (at most 10 bytes).
    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<10 {
            let byte = try reader.u8("a protobuf varint")
            if i == 9, byte > 1 { throw CheckpointError.protobuf(.varintOverflow(offset: reader.position)) }
            value |= UInt64(byte & 0x7F) << (7 * UInt64(i))
            if byte & 0x80 == 0 { return value }
        }
        throw CheckpointError.protobuf(.varintTooLong(offset: reader.position))
    }

    /// A length-delimited payload (sub-message, string, bytes or packed values).
    mutating func lengthDelimited() throws -> Data {
        let length = try varint()
        guard length <= UInt64(reader.remaining) else {
            throw CheckpointError.protobuf(.fieldTruncated(length: length, offset: reader.position, remaining: reader.remaining))
        }
        return try reader.bytes(Int(truncatingIfNeeded: length))
    }

    mutating func fixed32() throws -> UInt32 { UInt32(try reader.uintLE(4, "a fixed32")) }
    mutating func fixed64() throws -> UInt64 { try reader.uintLE(8, "a fixed64") }

    /// Skips a field's value of the given wire type.
    mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: try reader.skip(8, "a fixed64")
        case .fixed32: try reader.skip(4, "a fixed32")
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw CheckpointError.protobuf(.groups)
        }
    }

    /// A repeated integer field: one varint, or a packed run of them.
    mutating func varints(_ wireType: WireType) throws -> [Int64] {
        if wireType == .varint { return [Int64(bitPattern: try varint())] }
        guard wireType == .lengthDelimited else { throw CheckpointError.protobuf(.wrongWireType(field: "integer", wireType: wireType.rawValue)) }
        var packed = ProtobufReader(try lengthDelimited())
        var values: [Int64] = []
        while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.varint())) }
        return values
    }
}
