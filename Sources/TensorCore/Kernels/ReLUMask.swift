// A one-bit-per-element record of where a ReLU passed its input: all its backward pass needs,
// 32 times smaller than keeping the float activation.

/// Bit i is set where element i of the recorded tensor was > 0.
struct ReLUMask {
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
                        for b in 0..<64 where values[base + b] > 0 { bits |= 1 << UInt64(b) }
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
            words.withUnsafeBufferPointer { w in
                makeUninitializedArray(count) { out in
                    Parallel.forRanges(w.count, grain: 1 << 12) { range in
                        for wi in range {
                            let base = wi * 64, n = min(64, count - base), bits = w[wi]
                            for b in 0..<n {
                                out[base + b] = (bits >> UInt64(b)) & 1 != 0 ? src[base + b] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}
