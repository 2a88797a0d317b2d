// Register-blocked single-precision matrix multiply: the one inner loop behind convolution and linear layers.
//
// C[M, N] (+)= A[M, K] * B[K, N]. A is packed into panels of `GEMM.mr` rows, k-major; B into strips of
// `GEMM.nr` columns, k-major; the micro-kernel keeps an mr x nr tile of C in 16 SIMD16 registers and runs
// one FMA per (row, half-strip) per k. K is cut into blocks of `GEMM.kc` so a B strip stays in L1.
// Every element of C is summed in the same k order whatever the blocking of M and N, so splitting the work
// over threads by output tiles never changes a result bit.

/// Blocking constants and the micro-kernel.
enum GEMM {
    /// Rows of A (output channels) per micro-tile.
    static let mr = 8
    /// Columns of B (output pixels) per micro-tile: two SIMD16 vectors.
    static let nr = 32
    /// Depth of one k block (a B strip of kc x nr floats is 32 KiB: L1-sized).
    static let kc = 128
    /// Columns of B packed per block in the generic driver.
    static let nc = 256

    static func roundUp(_ v: Int, _ m: Int) -> Int { (v + m - 1) / m * m }

    /// Chunk `index` of `0 ..< count` cut into chunks of `size`: empty once past the end (ceil-sized chunks can
    /// leave the last ones with nothing, e.g. 5 panels in 4 chunks of 2).
    static func chunk(_ index: Int, size: Int, of count: Int) -> Range<Int> {
        min(count, index * size)..<min(count, (index + 1) * size)
    }

    /// The k-block depth of a convolution whose k axis is (channel, kernel tap): whole channels per block, about
    /// `kc` deep. Blocks are summed one after another, so a channel split between two blocks would round
    /// differently from the same channel inside one; with whole channels per block, the channels that are zero
    /// for an image (the other filters of a restricted conv's input gradient) never change its bits.
    static func convKBlock(kernelArea: Int) -> Int { kernelArea >= kc ? kernelArea : (kc / kernelArea) * kernelArea }

    /// A row stride (floats) for a k-major B block `width` columns wide: rounded up to whole strips, plus one
    /// cache line when needed so rows start on an odd number of cache lines (even strides alias L1 sets).
    static func blockRowStride(_ width: Int) -> Int {
        let w = roundUp(width, nr)
        return (w / 16) % 2 == 0 ? w + 16 : w
    }
}

// MARK: - Scratch memory

/// Runs `body` with a 64-byte-aligned scratch buffer of `count` floats (uninitialised). Buffers of 1 MiB and more
/// come from `ScratchPool`, so packing and Winograd workspaces are not mapped and zeroed afresh by the kernel on
/// every call when the allocator returns large blocks at once (`AllocatorPolicy.memory`).
@inline(__always)
func withAlignedScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let n = max(count, 16)
    if n >= ScratchPool.minimumFloats {
        let buffer = ScratchPool.take(n)
        defer { ScratchPool.give(buffer) }
        return try body(buffer.base)
    }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
    defer { raw.deallocate() }
    return try body(raw.bindMemory(to: Float.self, capacity: n))
}

/// A float array whose elements the caller fills completely (no zeroing pass).
@inline(__always)
func makeUninitializedArray(_ count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, initialized in
        if count > 0 { fill(buf.baseAddress!) }
        initialized = count
    }
}

// MARK: - Packing

/// A matrix A (M x K) packed for the micro-kernel: for each k block, panels of `mr` rows stored k-major
/// (`panel[k * mr + r]`), rows past M zero-filled.
struct PackedA {
    let base: UnsafeMutablePointer<Float>
    let m: Int
    let k: Int
    var mPanels: Int { (m + GEMM.mr - 1) / GEMM.mr }
    static func count(m: Int, k: Int) -> Int { GEMM.roundUp(m, GEMM.mr) * max(k, 1) }

    /// The packed panel `panel` of the k block starting at `k0` (of length `kcLen`).
    @inline(__always)
    func panel(k0: Int, kcLen: Int, panel: Int) -> UnsafePointer<Float> {
        UnsafePointer(base + k0 * GEMM.roundUp(m, GEMM.mr) + panel * GEMM.mr * kcLen)
    }

    /// Packs A[i, j] = a[i * rowStride + j * colStride] for i < m, j < k into `into`
    /// (capacity `PackedA.count(m:k:)`).
    /// `kBlock` is the depth of the k blocks the caller will multiply (`panel(k0:kcLen:panel:)`).
    static func pack(m: Int, k: Int, _ a: UnsafePointer<Float>, rowStride: Int, colStride: Int,
                     into dst: UnsafeMutablePointer<Float>, kBlock: Int = GEMM.kc) -> PackedA {
        let mr = GEMM.mr
        let mPad = GEMM.roundUp(m, mr)
        let panels = mPad / mr, kBlocks = (k + kBlock - 1) / kBlock
        // Parallel over (k block, panel) when large: the weights of a deep conv are ~10 MB, repacked every call.
        let pack = { (item: Int) in
            let k0 = (item / panels) * kBlock, p = item % panels
            let kcLen = min(kBlock, k - k0)
            do {
                let out = dst + k0 * mPad + p * mr * kcLen
                for r in 0..<mr {
                    let row = p * mr + r
                    if row < m {
                        let src = a + row * rowStride + k0 * colStride
                        if colStride == 1 {
                            for kk in 0..<kcLen { out[kk * mr + r] = src[kk] }
                        } else {
                            for kk in 0..<kcLen { out[kk * mr + r] = src[kk * colStride] }
                        }
                    } else {
                        for kk in 0..<kcLen { out[kk * mr + r] = 0 }
                    }
                }
            }
        }
        if mPad * k >= 1 << 16 {
            Parallel.forEach(kBlocks * panels, pack)
        } else {
            for item in 0..<(kBlocks * panels) { pack(item) }
        }
        return PackedA(base: dst, m: m, k: k)
    }
}

/// Packs B[k0 ..< k0+kcLen, j0 ..< j0+width] (B[i, j] = b[i * rowStride + j * colStride]) into strips of
/// `nr` columns, k-major, zero-padding the last strip's missing columns.
func packBStrips(_ b: UnsafePointer<Float>, rowStride: Int, colStride: Int, k0: Int, kcLen: Int,
                 j0: Int, width: Int, into dst: UnsafeMutablePointer<Float>) {
    let nr = GEMM.nr
    var strip = 0
    while strip * nr < width {
        let cols = min(nr, width - strip * nr)
        let out = dst + strip * kcLen * nr
        let src = b + k0 * rowStride + (j0 + strip * nr) * colStride
        if colStride == 1 {
            for kk in 0..<kcLen {
                let s = src + kk * rowStride, o = out + kk * nr
                for c in 0..<cols { o[c] = s[c] }
                for c in cols..<nr { o[c] = 0 }
            }
        } else {
            for c in 0..<cols {
                let s = src + c * colStride
                for kk in 0..<kcLen { out[kk * nr + c] = s[kk * rowStride] }
            }
            if cols < nr { for kk in 0..<kcLen { for c in cols..<nr { out[kk * nr + c] = 0 } } }
        }
        strip += 1
    }
}

// MARK: - Micro-kernel

@inline(__always) func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}
@inline(__always) func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}
@inline(__always) func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

/// Copies n floats with vector moves (the last vector may overlap the previous one). Short copies dominate
/// the im2col packing, where a call to memmove per run would cost more than the copy.
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 16 {
        var i = 0
        while i + 16 <= n { store16(load16(src + i), dst + i); i += 16 }
        if i < n { store16(load16(src + n - 16), dst + n - 16) }
    } else if n >= 4 {
        var i = 0
        while i + 4 <= n { store4(load4(src + i), dst + i); i += 4 }
        if i < n { store4(load4(src + n - 4), dst + n - 4) }
    } else {
        var i = 0
        while i < n { dst[i] = src[i]; i += 1 }
    }
}

/// Sets n floats to zero with vector stores.
@inline(__always)
func zeroFloats(_ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 16 {
        var i = 0
        while i + 16 <= n { store16(SIMD16(), dst + i); i += 16 }
        if i < n { store16(SIMD16(), dst + n - 16) }
    } else if n >= 4 {
        var i = 0
        while i + 4 <= n { store4(SIMD4(), dst + i); i += 4 }
        if i < n { store4(SIMD4(), dst + n - 4) }
    } else {
        var i = 0
        while i < n { dst[i] = 0; i += 1 }
    }
}

extension GEMM {
    /// C tile (rows x cols at `c`, row stride ldc) (+)= packed A panel (kc x mr) * packed B strip (kc x nr).
    @inline(__always)
    static func microKernel(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int,
                            _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool) {
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
        var c40 = SIMD16<Float>(), c41 = SIMD16<Float>(), c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
        var c60 = SIMD16<Float>(), c61 = SIMD16<Float>(), c70 = SIMD16<Float>(), c71 = SIMD16<Float>()
        var pa = a, pb = b
        for _ in 0..<kc {
            let b0 = load16(pb), b1 = load16(pb + 16)
            var s = SIMD16<Float>(repeating: pa[0])
            c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[1])
            c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[2])
            c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[3])
            c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[4])
            c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[5])
            c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[6])
            c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
            s = SIMD16<Float>(repeating: pa[7])
            c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
            pa += 8; pb += ldb
        }
        if rows == 8 && cols == 32 {
            @inline(__always) func put(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ r: Int) {
                let p = c + r * ldc
                if accumulate {
                    store16(v0 + load16(p), p); store16(v1 + load16(p + 16), p + 16)
                } else {
                    store16(v0, p); store16(v1, p + 16)
                }
            }
            put(c00, c01, 0); put(c10, c11, 1); put(c20, c21, 2); put(c30, c31, 3)
            put(c40, c41, 4); put(c50, c51, 5); put(c60, c61, 6); put(c70, c71, 7)
        } else {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { t in
                let tp = t.baseAddress!
                store16(c00, tp); store16(c01, tp + 16); store16(c10, tp + 32); store16(c11, tp + 48)
                store16(c20, tp + 64); store16(c21, tp + 80); store16(c30, tp + 96); store16(c31, tp + 112)
                store16(c40, tp + 128); store16(c41, tp + 144); store16(c50, tp + 160); store16(c51, tp + 176)
                store16(c60, tp + 192); store16(c61, tp + 208); store16(c70, tp + 224); store16(c71, tp + 240)
                for r in 0..<rows {
                    let p = c + r * ldc, q = tp + r * 32
                    if accumulate { for j in 0..<cols { p[j] += q[j] } } else { for j in 0..<cols { p[j] = q[j] } }
                }
            }
        }
    }

    /// Runs the micro-kernel over every (strip, panel) pair of one k block: C[rows of panels, width] (+)= A B.
    /// `panels` is a range of A panels; C points at row 0 / column 0 of the block. B is either packed strips
    /// (`packBStrips`, the default strides) or one k-major block with row stride `ldb` (strip stride `nr`).
    @inline(__always)
    static func macroKernel(_ packedA: PackedA, k0: Int, kcLen: Int, panels: Range<Int>,
                            _ bStrips: UnsafePointer<Float>, width: Int,
                            _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                            ldb: Int? = nil) {
        let stripStride = ldb == nil ? kcLen * nr : nr, rowStride = ldb ?? nr
        // A panel (kc x mr, 4 KiB) stays in L1 while the B strips of the block stream from L2.
        for p in panels {
            let rows = min(mr, packedA.m - p * mr)
            let a = packedA.panel(k0: k0, kcLen: kcLen, panel: p)
            var strip = 0
            while strip * nr < width {
                let cols = min(nr, width - strip * nr)
                microKernel(kcLen, a, bStrips + strip * stripStride, ldb: rowStride,
                            c + p * mr * ldc + strip * nr, ldc: ldc, rows: rows, cols: cols, accumulate: accumulate)
                strip += 1
            }
        }
    }

    /// C[M, N] (+)= A[M, K] B[K, N] for strided A and B, parallel over output tiles (bit-identical on any
    /// thread count). C has row stride `ldc`; with `accumulate` false it is overwritten.
    static func multiply(m: Int, n: Int, k: Int,
                         _ a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
                         _ b: UnsafePointer<Float>, bRowStride: Int, bColStride: Int,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = 0 } } }
            return
        }
        withAlignedScratch(PackedA.count(m: m, k: k)) { aBuf in
            let packed = PackedA.pack(m: m, k: k, a, rowStride: aRowStride, colStride: aColStride, into: aBuf)
            let colBlocks = (n + nc - 1) / nc
            let mPanels = packed.mPanels
            let want = 4 * Parallel.threads
            let rowChunks = colBlocks >= want ? 1 : min(mPanels, (want + colBlocks - 1) / colBlocks)
            let panelsPerChunk = (mPanels + rowChunks - 1) / rowChunks
            Parallel.forEach(colBlocks * rowChunks) { item in
                let jb = item / rowChunks, rc = item % rowChunks
                let panels = chunk(rc, size: panelsPerChunk, of: mPanels)
                if panels.isEmpty { return }
                let j0 = jb * nc, width = min(nc, n - j0)
                withAlignedScratch(kc * roundUp(width, nr)) { bBuf in
                    var k0 = 0
                    while k0 < k {
                        let kcLen = min(kc, k - k0)
                        packBStrips(b, rowStride: bRowStride, colStride: bColStride, k0: k0, kcLen: kcLen,
                                    j0: j0, width: width, into: bBuf)
                        macroKernel(packed, k0: k0, kcLen: kcLen, panels: panels, bBuf, width: width,
                                    c + j0, ldc: ldc, accumulate: accumulate || k0 > 0)
                        k0 += kcLen
                    }
                }
            }
        }
    }
}
