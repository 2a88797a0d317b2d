import Foundation

/// Emits pickle opcodes (protocol 2, as torch.save writes data.pkl) for the recipe generators.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2
    private var nextMemo = 0

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func mark() { op(0x28) }
    mutating func tuple() { op(0x74) }
    mutating func stop() { op(0x2E) }
    mutating func reduce() { op(0x52) }
    mutating func build() { op(0x62) }

    mutating func global(_ module: String, _ name: String) {
        op(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func int(_ value: Int) {
        if let small = Int32(exactly: value) {
            op(0x4A)
            withUnsafeBytes(of: small.littleEndian) { bytes += $0 }
        } else {
            op(0x8A); op(8)  // LONG1, 8 bytes little-endian two's complement
            withUnsafeBytes(of: Int64(value).littleEndian) { bytes += $0 }
        }
    }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        op(0x58)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    mutating func binBytes(_ data: [UInt8]) {
        op(0x42)
        withUnsafeBytes(of: UInt32(data.count).littleEndian) { bytes += $0 }
        bytes += data
    }

    mutating func bool(_ b: Bool) { op(b ? 0x88 : 0x89) }
    mutating func none() { op(0x4E) }

    /// A tuple of ints.
    mutating func ints(_ values: [Int]) {
        mark()
        values.forEach { int($0) }
        tuple()
    }

    /// Memoizes the top of the stack (BINPUT/LONG_BINPUT) and returns its index.
    mutating func put() -> Int {
        let index = nextMemo
        nextMemo += 1
        if index < 256 { op(0x71); op(UInt8(index)) } else { op(0x72); withUnsafeBytes(of: UInt32(index).littleEndian) { bytes += $0 } }
        return index
    }

    mutating func get(_ index: Int) {
        if index < 256 { op(0x68); op(UInt8(index)) } else { op(0x6A); withUnsafeBytes(of: UInt32(index).littleEndian) { bytes += $0 } }
    }

    /// `collections.OrderedDict()`.
    mutating func orderedDict() {
        global("collections", "OrderedDict")
        op(0x29)  // EMPTY_TUPLE
        reduce()
    }
}
