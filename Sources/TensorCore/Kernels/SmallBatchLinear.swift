// y = x W^T for a handful of rows of x: each weight row is read once from memory and dotted with up to four
// rows of x at a time. For batch 1-16 this is bound by reading W, which the packed GEMM would copy first.

enum SmallBatchLinear {
    /// y[b, o] = sum_k x[b, k] * w[o, k] for b < n, o < outF; y is overwritten. Parallel over output features.
    static func multiply(n: Int, inF: Int, outF: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         y: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(outF, grain: 64) { range in
            for o in range {
                let wr = w + o * inF
                var b0 = 0
                while b0 < n {
                    let rows = min(4, n - b0)
                    // Rows past the batch reuse row b0 (results discarded), so the loop has no branches.
                    let x0 = x + b0 * inF
                    let x1 = x + (b0 + min(1, rows - 1)) * inF
                    let x2 = x + (b0 + min(2, rows - 1)) * inF
                    let x3 = x + (b0 + min(3, rows - 1)) * inF
                    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                    var k = 0
                    while k + 16 <= inF {
                        let wv = load16(wr + k)
                        a0 = a0.addingProduct(wv, load16(x0 + k)); a1 = a1.addingProduct(wv, load16(x1 + k))
                        a2 = a2.addingProduct(wv, load16(x2 + k)); a3 = a3.addingProduct(wv, load16(x3 + k))
                        k += 16
                    }
                    var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                    while k < inF {
                        let wk = wr[k]
                        s0 += wk * x0[k]; s1 += wk * x1[k]; s2 += wk * x2[k]; s3 += wk * x3[k]
                        k += 1
                    }
                    let sums = (s0, s1, s2, s3)
                    y[b0 * outF + o] = sums.0
                    if rows > 1 { y[(b0 + 1) * outF + o] = sums.1 }
                    if rows > 2 { y[(b0 + 2) * outF + o] = sums.2 }
                    if rows > 3 { y[(b0 + 3) * outF + o] = sums.3 }
                    b0 += 4
                }
            }
        }
    }
}
