// 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2015).
//
// Each 2x2 block of output pixels (a "tile") is computed from the 4x4 input patch under it:
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
// so a tile costs 16 multiply-adds per (input, output) channel pair instead of 36: 2.25x fewer. Summed over
// input channels, the 16 element-wise products become 16 independent matrix products
//     M_ξ[o, t] = Σ_c U_ξ[o, c] · V_ξ[c, t]      (ξ = one of the 16 positions of the 4x4 transform)
// which run on the same register-blocked micro-kernel as every other GEMM. The transforms only add, subtract and
// halve, so rounding stays close to that of the direct sum (the tests bound it against PyTorch's direct result).
//
// Work is split by output: a work item owns a block of tiles and a range of output channels, and every output
// is summed in the same order (input channels in GEMM.kc blocks) whatever the blocking, so results are
// bit-identical on any thread count.

enum Winograd {
    /// Whether this path can compute `g` at all: 3x3, stride 1, no dilation, one group (any channel counts).
    static func canCompute(_ g: ConvGeometry) -> Bool {
        g.kh == 3 && g.kw == 3 && g.stride == 1 && g.dilation == 1 && g.groups == 1 && g.outH >= 1 && g.outW >= 1
    }

    /// Whether the convolution layer `layer` (its forward geometry) runs on this path, forward and input gradient
    /// alike: computable, outputs of at least 2x2, and at least 16 input channels, so the transforms cost little next
    /// to the products.
    ///
    /// The rule reads only what the layer and the image size fix, never the number of output channels a call
    /// computes: the engine computes only a batch's filters at its last conv, and a filter's bits must not depend on
    /// how many filters share its batch. (The input gradient's own input is that restricted channel count, so its
    /// dispatch follows the layer's forward geometry too.)
    static func isEligible(layer g: ConvGeometry) -> Bool {
        canCompute(g) && g.inChannels >= 16 && g.outH >= 2 && g.outW >= 2
    }

    /// Whether `layer` is computed by this path now: eligible, and the algorithm in force is `.automatic`.
    static func runs(layer g: ConvGeometry) -> Bool { ConvAlgorithm.current == .automatic && isEligible(layer: g) }

    /// Tiles (2x2 output blocks) per image row and column.
    static func tiles(_ g: ConvGeometry) -> (rows: Int, cols: Int) { ((g.outH + 1) / 2, (g.outW + 1) / 2) }

    /// Strips (GEMM.nr tiles) per work item at most: a block of tiles' transformed input (16 x C x tiles floats)
    /// stays in L2/L3 while every output channel is computed from it.
    static let maxStripsPerBlock = 4

    /// Output-channel panels (GEMM.mr channels each) multiplied and stored per pass over a block: their 16 M_ξ
    /// (16 x 64 x tiles floats) stay in L2 until the output transform reads them (3-5% faster than a whole
    /// chunk at once on VGG16's conv5_1 batch-8 step, measured side by side).
    static let maxPanelsPerPass = 8

    /// y = conv3x3(x, w) + bias, then max(., 0) if `relu`; y (N, O, outH, outW) is fully overwritten.
    /// `u` holds the transformed weights (`TransformedWeights` of w, O x C).
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, u: TransformedWeights,
                        bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        precondition(canCompute(g), "Winograd.forward: not a 3x3 stride-1 single-group convolution: \(g)")
        let channels = g.inChannels, outputs = g.outChannels
        precondition(u.outputs == outputs && u.channels == channels,
                     "Winograd.forward: weights transformed for \(u.outputs) x \(u.channels) channels, convolution has \(outputs) x \(channels)")
        let (tileRows, tileCols) = tiles(g)
        let total = g.batch * tileRows * tileCols
        let nr = GEMM.nr, mr = GEMM.mr
        let strips = (total + nr - 1) / nr
        let threads = Parallel.threads
        // Blocks of whole strips, at least two per thread when there are enough strips; the output channels are
        // split too when there are still too few items for the threads to share evenly.
        let blocks = min(strips, max((strips + maxStripsPerBlock - 1) / maxStripsPerBlock, 2 * threads))
        let mPanels = (outputs + mr - 1) / mr
        let want = 4 * threads
        let oChunks = blocks >= want ? 1 : min(mPanels, (want + blocks - 1) / blocks)
        let panelsPer = (mPanels + oChunks - 1) / oChunks
        let maxWidth = ((strips + blocks - 1) / blocks) * nr
        let ldb = GEMM.blockRowStride(maxWidth)
        let panelsPerPass = min(panelsPer, maxPanelsPerPass)
        let vCount = 16 * channels * ldb + 16, mCount = 16 * panelsPerPass * mr * ldb
        let rowCount = 4 * (2 * GEMM.roundUp(maxWidth, 16) + 48)
        func tileRange(_ block: Int) -> (t0: Int, width: Int, paddedWidth: Int) {
            let s0 = block * strips / blocks, s1 = (block + 1) * strips / blocks
            return (s0 * nr, min(s1 * nr, total) - s0 * nr, (s1 - s0) * nr)
        }
        /// GEMMs and output transform of one (block, output-channel chunk) from its transformed input v.
        func multiplyAndStore(block: Int, chunk: Int, v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>) {
            let panels = GEMM.chunk(chunk, size: panelsPer, of: mPanels)
            if panels.isEmpty { return }
            let (t0, width, paddedWidth) = tileRange(block)
            var p0 = panels.lowerBound
            while p0 < panels.upperBound {
                let part = p0..<min(panels.upperBound, p0 + panelsPerPass)
                let mRows = part.count * mr
                multiply(u, panels: part, v, ldb: ldb, columns: paddedWidth, into: m, rowsPerXi: mRows)
                let o0 = part.lowerBound * mr, o1 = min(outputs, part.upperBound * mr)
                transformOutput(g, m, ldm: ldb, xiStride: mRows * ldb, channels: o0..<o1,
                                tileRows: tileRows, tileCols: tileCols, t0: t0, width: width, bias: bias, relu: relu, y: y)
                p0 = part.upperBound
            }
        }
        if oChunks == 1 {
            // Each item transforms its own block of tiles.
            Parallel.forEach(blocks) { block in
                withAlignedScratch(vCount + mCount + rowCount) { scratch in
                    let (t0, width, _) = tileRange(block)
                    transformInput(g, x, channels: 0..<channels, tileRows: tileRows, tileCols: tileCols, t0: t0,
                                   width: width, scratch, ldb: ldb, rowBuffer: scratch + vCount + mCount)
                    multiplyAndStore(block: block, chunk: 0, v: scratch, m: scratch + vCount)
                }
            }
            return
        }
        // Few tiles (deep layers, small batches): transform every block once, split by input channels, then share
        // the transformed input between the output-channel chunks.
        withAlignedScratch(blocks * vCount) { vAll in
            let cChunks = min((channels + 15) / 16, max(1, want / blocks))
            Parallel.forEach(blocks * cChunks) { item in
                let block = item / cChunks, cc = item % cChunks
                let (t0, width, _) = tileRange(block)
                withAlignedScratch(rowCount) { rows in
                    transformInput(g, x, channels: (cc * channels / cChunks)..<((cc + 1) * channels / cChunks),
                                   tileRows: tileRows, tileCols: tileCols, t0: t0, width: width,
                                   vAll + block * vCount, ldb: ldb, rowBuffer: rows)
                }
            }
            Parallel.forEach(blocks * oChunks) { item in
                withAlignedScratch(mCount) { m in
                    multiplyAndStore(block: item / oChunks, chunk: item % oChunks, v: vAll + (item / oChunks) * vCount, m: m)
                }
            }
        }
    }

    /// M_ξ = U_ξ[panels] V_ξ for the 16 ξ: m[ξ * rowsPerXi * ldb + (o - first row) * ldb + j], j < columns
    /// (whole strips). Input channels are summed in GEMM.kc blocks, in order.
    static func multiply(_ u: TransformedWeights, panels: Range<Int>, _ v: UnsafePointer<Float>, ldb: Int, columns: Int,
                         into m: UnsafeMutablePointer<Float>, rowsPerXi: Int) {
        let channels = u.channels, mr = GEMM.mr, nr = GEMM.nr
        let perXi = PackedA.count(m: u.outputs, k: channels)
        for xi in 0..<16 {
            let a = PackedA(base: u.data + xi * perXi, m: u.outputs, k: channels)
            let vXi = v + xi * channels * ldb, mXi = m + xi * rowsPerXi * ldb
            var k0 = 0
            while k0 < channels {
                let kcLen = min(GEMM.kc, channels - k0)
                for p in panels {
                    let panel = a.panel(k0: k0, kcLen: kcLen, panel: p)
                    var j = 0
                    while j < columns {
                        GEMM.microKernel(kcLen, panel, vXi + k0 * ldb + j, ldb: ldb,
                                         mXi + (p - panels.lowerBound) * mr * ldb + j, ldc: ldb,
                                         rows: mr, cols: nr, accumulate: k0 > 0)
                        j += nr
                    }
                }
                k0 += kcLen
            }
        }
    }

    // MARK: Weights: U = G g Gᵀ

    /// Writes U_ξ = (G g Gᵀ)_ξ for every (output, input) channel pair, each ξ packed as a GEMM A matrix
    /// (outputs x channels) at `into + ξ * PackedA.count(m: outputs, k: channels)`.
    static func transformWeights(_ w: UnsafePointer<Float>, outputs: Int, channels: Int,
                                 into u: UnsafeMutablePointer<Float>) {
        let mr = GEMM.mr, mPad = GEMM.roundUp(outputs, mr)
        let perXi = PackedA.count(m: outputs, k: channels)
        // One panel of 8 output channels at a time, as SIMD8 lanes: each U_ξ row segment is one 8-float store.
        Parallel.forEach(mPad / mr) { panel in
            let rows = min(mr, outputs - panel * mr)
            var k0 = 0
            while k0 < channels {
                let kcLen = min(GEMM.kc, channels - k0)
                let base = u + k0 * mPad + panel * mr * kcLen
                for kk in 0..<kcLen {
                    var f = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                             SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                    for r in 0..<rows {
                        let g = w + ((panel * mr + r) * channels + k0 + kk) * 9
                        f.0[r] = g[0]; f.1[r] = g[1]; f.2[r] = g[2]; f.3[r] = g[3]; f.4[r] = g[4]
                        f.5[r] = g[5]; f.6[r] = g[6]; f.7[r] = g[7]; f.8[r] = g[8]
                    }
                    let dst = base + kk * mr
                    @inline(__always) func put(_ i: Int, _ a0: SIMD8<Float>, _ a1: SIMD8<Float>, _ a2: SIMD8<Float>) {
                        // Row i of G g, times Gᵀ: (a0, (a0 + a1 + a2) / 2, (a0 - a1 + a2) / 2, a2).
                        let p = dst + 4 * i * perXi
                        UnsafeMutableRawPointer(p).storeBytes(of: a0, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(p + perXi).storeBytes(of: 0.5 * (a0 + a1 + a2), as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(p + 2 * perXi).storeBytes(of: 0.5 * (a0 - a1 + a2), as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(p + 3 * perXi).storeBytes(of: a2, as: SIMD8<Float>.self)
                    }
                    // G g: rows 0 and 3 are g's first and last rows; rows 1 and 2 are (g0 ± g1 + g2) / 2.
                    put(0, f.0, f.1, f.2)
                    put(1, 0.5 * (f.0 + f.3 + f.6), 0.5 * (f.1 + f.4 + f.7), 0.5 * (f.2 + f.5 + f.8))
                    put(2, 0.5 * (f.0 - f.3 + f.6), 0.5 * (f.1 - f.4 + f.7), 0.5 * (f.2 - f.5 + f.8))
                    put(3, f.6, f.7, f.8)
                }
                k0 += kcLen
            }
        }
    }

    // MARK: Input: V = Bᵀ d B

    /// Calls body(n, tileRow, firstTileCol, count, column) for the runs of tiles t0 ..< t0+width that share an
    /// image and a tile row; `column` is the run's first column in the block.
    @inline(__always)
    static func forEachTileRun(tileRows: Int, tileCols: Int, t0: Int, width: Int,
                               _ body: (Int, Int, Int, Int, Int) -> Void) {
        let perImage = tileRows * tileCols
        var t = t0
        while t < t0 + width {
            let n = t / perImage, rest = t - n * perImage
            let ty = rest / tileCols, tx = rest - ty * tileCols
            let count = min(tileCols - tx, t0 + width - t)
            body(n, ty, tx, count, t - t0)
            t += count
        }
    }

    /// Writes V_ξ[c, j] = (Bᵀ d B)_ξ of tile t0 + j and input channel c in `range` to v[(ξ * C + c) * ldb + j],
    /// for j < width; the columns up to the next whole strip are zeroed. `rowBuffer` holds four zero-padded
    /// input rows.
    static func transformInput(_ g: ConvGeometry, _ x: UnsafePointer<Float>, channels range: Range<Int>,
                               tileRows: Int, tileCols: Int, t0: Int, width: Int, _ v: UnsafeMutablePointer<Float>,
                               ldb: Int, rowBuffer: UnsafeMutablePointer<Float>) {
        let channels = g.inChannels
        let xiStride = channels * ldb
        forEachTileRun(tileRows: tileRows, tileCols: tileCols, t0: t0, width: width) { n, ty, tx0, count, col in
            // Input columns 2 * tx0 - padLeft ..< that + span, where the vectors below read (zeros outside).
            let groups = (count + 15) / 16
            let span = 32 * groups + 2
            let rowStride = 32 * groups + 32
            let ix0 = 2 * tx0 - g.padLeft
            let lo = min(max(-ix0, 0), span), hi = max(lo, min(span, g.inW - ix0))
            for c in range {
                let plane = x + (n * channels + c) * g.inPlane
                for r in 0..<4 {
                    let row = rowBuffer + r * rowStride
                    let iy = 2 * ty - g.padTop + r
                    if iy < 0 || iy >= g.inH || hi == lo {
                        zeroFloats(row, span)
                        continue
                    }
                    if lo > 0 { zeroFloats(row, lo) }
                    copyFloats(plane + iy * g.inW + ix0 + lo, row + lo, hi - lo)
                    if hi < span { zeroFloats(row + hi, span - hi) }
                }
                let out = v + c * ldb + col
                for group in 0..<groups {
                    // d[r][s] for 16 tiles: input columns 2i + s of row r.
                    @inline(__always) func columns(_ r: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
                        let p = rowBuffer + r * rowStride + 32 * group
                        let (d0, d1) = loadDeinterleaved(p), (d2, d3) = loadDeinterleaved(p + 2)
                        // d Bᵀ... applied along the row: (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
                        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    }
                    let e0 = columns(0), e1 = columns(1), e2 = columns(2), e3 = columns(3)
                    let dst = out + 16 * group
                    @inline(__always) func put(_ row: Int, _ q: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)) {
                        store16(q.0, dst + (4 * row) * xiStride)
                        store16(q.1, dst + (4 * row + 1) * xiStride)
                        store16(q.2, dst + (4 * row + 2) * xiStride)
                        store16(q.3, dst + (4 * row + 3) * xiStride)
                    }
                    // ... and along the column: (e0 - e2, e1 + e2, e2 - e1, e1 - e3).
                    put(0, (e0.0 - e2.0, e0.1 - e2.1, e0.2 - e2.2, e0.3 - e2.3))
                    put(1, (e1.0 + e2.0, e1.1 + e2.1, e1.2 + e2.2, e1.3 + e2.3))
                    put(2, (e2.0 - e1.0, e2.1 - e1.1, e2.2 - e1.2, e2.3 - e1.3))
                    put(3, (e1.0 - e3.0, e1.1 - e3.1, e1.2 - e3.2, e1.3 - e3.3))
                }
            }
        }
        // The last group of a run may have written past its end (into the next run, rewritten in turn, or past
        // `width`): zero everything from `width` to the end of the last strip.
        let padded = GEMM.roundUp(width, GEMM.nr)
        if width < padded {
            for xi in 0..<16 {
                for c in range { zeroFloats(v + (xi * channels + c) * ldb + width, padded - width) }
            }
        }
    }

    // MARK: Output: Y = Aᵀ M A

    /// Writes the 2x2 outputs of tiles t0 ..< t0+width for output channels `channels` from
    /// M_ξ[o - channels.lowerBound, j] = m[ξ * xiStride + (o - lower) * ldm + j], adding the bias and clamping
    /// at zero if `relu`; pixels past the image edge are dropped.
    static func transformOutput(_ g: ConvGeometry, _ m: UnsafePointer<Float>, ldm: Int, xiStride: Int,
                                channels: Range<Int>, tileRows: Int, tileCols: Int, t0: Int, width: Int,
                                bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        let outW = g.outW, outH = g.outH, plane = g.outPlane
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { line in
            let row0 = line.baseAddress!, row1 = row0 + 32
            forEachTileRun(tileRows: tileRows, tileCols: tileCols, t0: t0, width: width) { n, ty, tx0, count, col in
                let oy = 2 * ty
                let hasSecondRow = oy + 1 < outH
                for o in channels {
                    let src = m + (o - channels.lowerBound) * ldm + col
                    let b = SIMD16<Float>(repeating: bias?[o] ?? 0)
                    let dst = y + (n * g.outChannels + o) * plane + oy * outW
                    var i0 = 0
                    while i0 < count {
                        @inline(__always) func rowSums(_ r: Int) -> (SIMD16<Float>, SIMD16<Float>) {
                            let p = src + i0 + 4 * r * xiStride
                            let m0 = load16(p), m1 = load16(p + xiStride), m2 = load16(p + 2 * xiStride)
                            let m3 = load16(p + 3 * xiStride)
                            return (m0 + m1 + m2, m1 - m2 - m3)
                        }
                        let r0 = rowSums(0), r1 = rowSums(1), r2 = rowSums(2), r3 = rowSums(3)
                        var y00 = r0.0 + r1.0 + r2.0 + b, y01 = r0.1 + r1.1 + r2.1 + b
                        var y10 = r1.0 - r2.0 - r3.0 + b, y11 = r1.1 - r2.1 - r3.1 + b
                        if relu {
                            let zero = SIMD16<Float>()
                            y00.replace(with: zero, where: y00 .< zero); y01.replace(with: zero, where: y01 .< zero)
                            y10.replace(with: zero, where: y10 .< zero); y11.replace(with: zero, where: y11 .< zero)
                        }
                        let ox = 2 * (tx0 + i0)
                        let pixels = min(2 * min(16, count - i0), outW - ox)
                        if pixels == 32 {
                            storeInterleaved(y00, y01, dst + ox)
                            if hasSecondRow { storeInterleaved(y10, y11, dst + outW + ox) }
                        } else {
                            storeInterleaved(y00, y01, row0)
                            storeInterleaved(y10, y11, row1)
                            copyFloats(row0, dst + ox, pixels)
                            if hasSecondRow { copyFloats(row1, dst + outW + ox, pixels) }
                        }
                        i0 += 16
                    }
                }
            }
        }
    }
}

// MARK: - Even and odd lanes

/// The even-indexed lanes of a followed by those of b (a[0], a[2], ..., a[14], b[0], ..., b[14]).
@inline(__always)
func evenLanes(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    let a64 = unsafeBitCast(a, to: SIMD8<UInt64>.self), b64 = unsafeBitCast(b, to: SIMD8<UInt64>.self)
    let even = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: a64), highHalf: SIMD8<UInt32>(truncatingIfNeeded: b64))
    return unsafeBitCast(even, to: SIMD16<Float>.self)
}

/// The even- and odd-indexed floats of p[0 ..< 32] (as 64-bit lanes: low and high halves, one vpmovqd each).
@inline(__always)
func loadDeinterleaved(_ p: UnsafePointer<Float>) -> (SIMD16<Float>, SIMD16<Float>) {
    let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt64>.self)
    let b = UnsafeRawPointer(p + 16).loadUnaligned(as: SIMD8<UInt64>.self)
    let even = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: a), highHalf: SIMD8<UInt32>(truncatingIfNeeded: b))
    let odd = SIMD16<UInt32>(lowHalf: SIMD8<UInt32>(truncatingIfNeeded: a &>> 32),
                             highHalf: SIMD8<UInt32>(truncatingIfNeeded: b &>> 32))
    return (unsafeBitCast(even, to: SIMD16<Float>.self), unsafeBitCast(odd, to: SIMD16<Float>.self))
}

/// Stores even[0], odd[0], even[1], odd[1], ... to p[0 ..< 32] (two vpermi2ps).
@inline(__always)
func storeInterleaved(_ even: SIMD16<Float>, _ odd: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    let e = unsafeBitCast(even, to: SIMD16<UInt32>.self), o = unsafeBitCast(odd, to: SIMD16<UInt32>.self)
    let lo = SIMD8<UInt64>(truncatingIfNeeded: e.lowHalf) | (SIMD8<UInt64>(truncatingIfNeeded: o.lowHalf) &<< 32)
    let hi = SIMD8<UInt64>(truncatingIfNeeded: e.highHalf) | (SIMD8<UInt64>(truncatingIfNeeded: o.highHalf) &<< 32)
    UnsafeMutableRawPointer(p).storeBytes(of: lo, as: SIMD8<UInt64>.self)
    UnsafeMutableRawPointer(p + 16).storeBytes(of: hi, as: SIMD8<UInt64>.self)
}
