// A one-bit-per-element record of where a ReLU passed its input: all its backward pass needs,
// 32 times smaller than keeping the float activation.

/// Bit i is set where element i of the recorded tensor was > 0.
struct ReLUMask {
    /// 1 << lane for each of 16 lanes.
    static let laneBits = SIMD16<UInt32>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
    static let laneIndex = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    let count: Int
    let words: [UInt64]

    /// Records where `values[i] > 0` (a NaN records as not passed).
    init(_ values: UnsafePointer<Float>, count: Int) {
        self.count = count
        let wordCount = (count + 63) / 64
        words = [UInt64](unsafeUninitializedCapacity: wordCount) { buf, initialized in
            let out = buf.baseAddress!
            Parallel.forRanges(wordCount, grain: 1 << 14) { range in
                for wi in range {
                    let base = wi * 64, n = min(64, count - base)
                    var bits: UInt64 = 0
                    if n == 64 {
                        for q in 0..<4 {
                            // x > 0 exactly when its bit pattern, as a signed integer, minus 1 is >= 0.
                            let raw = unsafeBitCast(load16(values + base + 16 * q), to: SIMD16<Int32>.self)
                            let passed = SIMD16<UInt32>(truncatingIfNeeded: ~((raw &- 1) &>> 31)) & ReLUMask.laneBits
                            bits |= UInt64(passed.wrappedSum()) << UInt64(16 * q)
                        }
                    } else {
                        for b in 0..<n where values[base + b] > 0 { bits |= 1 << UInt64(b) }
                    }
                    out[wi] = bits
                }
            }
            initialized = wordCount
        }
    }

    /// g * mask, elementwise (the gradient through the ReLU).
    func apply(to g: [Float]) -> [Float] {
        precondition(g.count == count, "relu mask: gradient has \(g.count) elements, mask \(count)")
        return g.withUnsafeBufferPointer { src in
            makeUninitializedArray(count) { out in apply(src.baseAddress!, start: 0, count: count, into: out) }
        }
    }

    /// dst[i] = src[i] where bit start+i is set, else 0, for i < count (parallel over 64-element words).
    func apply(_ src: UnsafePointer<Float>, start: Int, count n: Int, into dst: UnsafeMutablePointer<Float>) {
        words.withUnsafeBufferPointer { w in
            let firstWord = start / 64, lastWord = (start + n + 63) / 64
            Parallel.forRanges(lastWord - firstWord, grain: 1 << 12) { range in
                for wi in (firstWord + range.lowerBound)..<(firstWord + range.upperBound) {
                    let lo = max(wi * 64, start), hi = min(wi * 64 + 64, start + n), bits = w[wi]
                    if lo == wi * 64 && hi == lo + 64 {
                        for q in 0..<4 {
                            // Lane i keeps its float where bit i is set: an all-ones or all-zeros AND mask.
                            let word = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: bits >> UInt64(16 * q)))
                            let keep = 0 &- ((word &>> ReLUMask.laneIndex) & 1)
                            let v = unsafeBitCast(load16(src + (lo - start) + 16 * q), to: SIMD16<UInt32>.self)
                            store16(unsafeBitCast(v & keep, to: SIMD16<Float>.self), dst + (lo - start) + 16 * q)
                        }
                    } else {
                        for i in lo..<hi {
                            dst[i - start] = (bits >> UInt64(i - wi * 64)) & 1 != 0 ? src[i - start] : 0
                        }
                    }
                }
            }
        }
    }
}
