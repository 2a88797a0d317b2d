// y = x W^T for a handful of rows of x (batch 1-16): bound by reading W once from memory, which the packed GEMM
// would first copy. Every y[b, o] is one SIMD16 accumulator summed over k in steps of 16, then its lanes, then the
// k tail, in that order in both kernels below, so the result does not depend on which kernel or thread ran it.

enum SmallBatchLinear {
    /// y[b, o] = sum_k x[b, k] * w[o, k] for b < n, o < outF; y is overwritten. Parallel over output features.
    static func multiply(n: Int, inF: Int, outF: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
             y: UnsafeMutablePointer<Float>) {
        if n <= 2 {
            Parallel.forRanges(outF, grain: 64) { range in
                for o in range { rowPair(n: n, inF: inF, outF: outF, x: x, w: w, o: o, y: y) }
            }
            return
        }
        // 3 or more rows: x no longer fits in L1 beside W, so each x vector loaded is used for three W rows.
        let tiles = (outF + 3 - 1) / 3
        Parallel.forRanges(tiles, grain: 22) { range in
            for tile in range {
                var b0 = 0
                while b0 < n {
                    tileThreeByEight(n: n, b0: b0, inF: inF, outF: outF, x: x, w: w, o0: tile * 3, y: y)
                    b0 += 8
                }
            }
        }
    }

    /// y[b, o] for the rows b < n (at most 2; a single row is read twice, its copy dropped) and one o.
    @inline(__always)
    private static func rowPair(n: Int, inF: Int, outF: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         o: Int, y: UnsafeMutablePointer<Float>) {
        let wr = w + o * inF
        let x0 = x, x1 = x + min(1, n - 1) * inF
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
        var k = 0
        while k + 16 <= inF {
            let wv = load16(wr + k)
            a0 = a0.addingProduct(wv, load16(x0 + k)); a1 = a1.addingProduct(wv, load16(x1 + k))
            k += 16
        }
        var s0 = a0.sum(), s1 = a1.sum()
        while k < inF {
            let wk = wr[k]
            s0 += wk * x0[k]; s1 += wk * x1[k]
            k += 1
        }
        y[o] = s0
        if n > 1 { y[outF + o] = s1 }
    }

    /// y[b, o] for rows b0 ..< b0+8 and o0 ..< o0+3 (rows and columns past the ends repeat the last ones; their
    /// results are dropped): 24 accumulators, each x vector used three times, each W vector eight times.
    @inline(__always)
    private static func tileThreeByEight(n: Int, b0: Int, inF: Int, outF: Int, x: UnsafePointer<Float>,
                             w: UnsafePointer<Float>, o0: Int, y: UnsafeMutablePointer<Float>) {
        let lastO = outF - 1, lastB = n - 1
        let w0p = w + min(o0, lastO) * inF, w1p = w + min(o0 + 1, lastO) * inF, w2p = w + min(o0 + 2, lastO) * inF
        let x0 = x + min(b0 + 0, lastB) * inF, x1 = x + min(b0 + 1, lastB) * inF, x2 = x + min(b0 + 2, lastB) * inF, x3 = x + min(b0 + 3, lastB) * inF, x4 = x + min(b0 + 4, lastB) * inF, x5 = x + min(b0 + 5, lastB) * inF, x6 = x + min(b0 + 6, lastB) * inF, x7 = x + min(b0 + 7, lastB) * inF
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>(), a04 = SIMD16<Float>(), a05 = SIMD16<Float>(), a06 = SIMD16<Float>(), a07 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>(), a14 = SIMD16<Float>(), a15 = SIMD16<Float>(), a16 = SIMD16<Float>(), a17 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>(), a24 = SIMD16<Float>(), a25 = SIMD16<Float>(), a26 = SIMD16<Float>(), a27 = SIMD16<Float>()
        var k = 0
        while k + 16 <= inF {
            let w0 = load16(w0p + k), w1 = load16(w1p + k), w2 = load16(w2p + k)
            do { let v = load16(x0 + k); a00 = a00.addingProduct(w0, v); a10 = a10.addingProduct(w1, v); a20 = a20.addingProduct(w2, v) }
            do { let v = load16(x1 + k); a01 = a01.addingProduct(w0, v); a11 = a11.addingProduct(w1, v); a21 = a21.addingProduct(w2, v) }
            do { let v = load16(x2 + k); a02 = a02.addingProduct(w0, v); a12 = a12.addingProduct(w1, v); a22 = a22.addingProduct(w2, v) }
            do { let v = load16(x3 + k); a03 = a03.addingProduct(w0, v); a13 = a13.addingProduct(w1, v); a23 = a23.addingProduct(w2, v) }
            do { let v = load16(x4 + k); a04 = a04.addingProduct(w0, v); a14 = a14.addingProduct(w1, v); a24 = a24.addingProduct(w2, v) }
            do { let v = load16(x5 + k); a05 = a05.addingProduct(w0, v); a15 = a15.addingProduct(w1, v); a25 = a25.addingProduct(w2, v) }
            do { let v = load16(x6 + k); a06 = a06.addingProduct(w0, v); a16 = a16.addingProduct(w1, v); a26 = a26.addingProduct(w2, v) }
            do { let v = load16(x7 + k); a07 = a07.addingProduct(w0, v); a17 = a17.addingProduct(w1, v); a27 = a27.addingProduct(w2, v) }
            k += 16
        }
        @inline(__always) func finish(_ a: SIMD16<Float>, _ r: Int, _ b: Int) {
            let o = o0 + r, row = b0 + b
            guard o < outF, row < n else { return }
            let wr = w + o * inF, xr = x + row * inF
            var s = a.sum()
            for t in k..<inF { s += wr[t] * xr[t] }
            y[row * outF + o] = s
        }
        finish(a00, 0, 0); finish(a01, 0, 1); finish(a02, 0, 2); finish(a03, 0, 3); finish(a04, 0, 4); finish(a05, 0, 5); finish(a06, 0, 6); finish(a07, 0, 7)
        finish(a10, 1, 0); finish(a11, 1, 1); finish(a12, 1, 2); finish(a13, 1, 3); finish(a14, 1, 4); finish(a15, 1, 5); finish(a16, 1, 6); finish(a17, 1, 7)
        finish(a20, 2, 0); finish(a21, 2, 1); finish(a22, 2, 2); finish(a23, 2, 3); finish(a24, 2, 4); finish(a25, 2, 5); finish(a26, 2, 6); finish(a27, 2, 7)
    }
}
