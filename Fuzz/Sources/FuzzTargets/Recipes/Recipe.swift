import Foundation

/// Fuzz bytes read as a recipe: each call takes the next bytes as a choice, so a mutation changes one decision
/// of a generator instead of breaking the file's structure. Past the end every choice is 0 (the plainest one).
struct Recipe {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isExhausted: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        defer { position += 1 }
        return position < bytes.count ? bytes[position] : 0
    }

    /// 0..<n.
    mutating func choose(_ n: Int) -> Int { n <= 1 ? 0 : Int(byte()) % n }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    /// One of `options`.
    mutating func pick<T>(_ options: [T]) -> T { options[choose(options.count)] }

    mutating func u32() -> UInt32 { (0..<4).reduce(0) { acc, i in acc | UInt32(byte()) << (8 * UInt32(i)) } }
    mutating func u64() -> UInt64 { (0..<8).reduce(0) { acc, i in acc | UInt64(byte()) << (8 * UInt64(i)) } }

    /// Usually `honest`; sometimes a value from the edges (0, ±1 off, powers of two, Int32/Int64 limits, random).
    mutating func lie(_ honest: Int) -> Int {
        switch choose(16) {
        case 0..<9: return honest
        case 9: return honest &+ 1
        case 10: return honest &- 1
        case 11: return 0
        case 12: return pick([-1, Int(Int32.max), Int(Int32.max) + 1, Int(UInt32.max), 1 << 28, (1 << 31) - 1, Int.max, Int.min])
        case 13: return honest &* Int(1 + byte() % 8)
        case 14: return Int(truncatingIfNeeded: u64())
        default: return Int(u32())
        }
    }

    /// A small count 0...max (biased to small values).
    mutating func count(_ max: Int) -> Int { min(max, Int(byte()) % (max + 1)) }
}
