/// The one seeded random generator: SplitMix64, with our own float conversions, so every platform and Swift
/// version draws the same bits for the same seed (the standard library's `Float.random(in:using:)` may change).
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `range` (half-open).
    public mutating func uniform(_ range: Range<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitDouble()
    }

    /// Uniform in `range` (closed).
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitDouble()
    }

    /// A uniform integer in `range`, without modulo bias.
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }
        let limit = UInt64.max - UInt64.max % span
        var x = next()
        while x >= limit { x = next() }
        return range.lowerBound + Int(x % span)
    }

    /// A standard normal draw (Box-Muller in double precision; one draw per call, deterministic).
    public mutating func normal() -> Double {
        let u1 = max(nextUnitDouble(), 0x1.0p-60)
        let u2 = nextUnitDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A new generator seeded from this one (for independent streams, e.g. one per filter).
    public mutating func split() -> SeededGenerator { SeededGenerator(seed: next()) }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

extension Tensor {
    /// Normal draws with the given mean and standard deviation.
    public static func randomNormal(shape: [Int], mean: Float = 0, std: Float = 1,
                                    using rng: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + std * Float(rng.normal()) }
        return Tensor(shape: shape, storage: values)
    }

    /// Uniform draws in `range`.
    public static func randomUniform(shape: [Int], in range: Range<Float>,
                                     using rng: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        let lo = Double(range.lowerBound), hi = Double(range.upperBound)
        for i in 0..<n { values[i] = Float(lo + (hi - lo) * rng.nextUnitDouble()) }
        return Tensor(shape: shape, storage: values)
    }
}
