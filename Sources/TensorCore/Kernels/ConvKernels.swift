// Convolution kernels over raw NCHW buffers: forward (with fused bias + ReLU), gradient of the input,
// gradient of the weights, gradient of the bias. Each parallel loop is split by output.

/// Which algorithm computes a convolution (and the input gradient of one, itself a convolution).
public enum ConvAlgorithm: String, CaseIterable, Sendable {
    /// Winograd F(2x2, 3x3) for 3x3 stride-1 single-group convolutions with 16 or more input channels
    /// (2.25x fewer multiplications), `DepthwiseConv` for depthwise layers (groups == channels == outputs, dilation
    /// 1; its forward values are bit-identical to the direct path's), the direct implicit-im2col GEMM for everything
    /// else. The choice depends on the layer, never on how many of its output channels are computed or on the batch.
    case automatic = "auto"
    /// Always the direct implicit-im2col GEMM (the reference the Winograd and depthwise paths are tested against).
    case direct

    /// The algorithm in force, from the `ComputeSettings` scope (manifests record it, since the two round
    /// differently; the CLI sets it from FILTERVIS_CONV).
    public static var current: ConvAlgorithm { ComputeSettings.current.convolution }

    /// Runs `body` with convolutions computed by `algorithm` (a `ComputeSettings` scope).
    public static func with<T>(_ algorithm: ConvAlgorithm, _ body: () throws -> T) rethrows -> T {
        try ComputeSettings.with({ $0.convolution = algorithm }, body)
    }

    /// Multiply-adds the kernels execute for a square single-group convolution (stride, symmetric padding),
    /// or for its input gradient: the direct count, or 16 per tile and channel pair where Winograd runs.
    /// Benchmarks divide this, not the direct count, by the time to report the share of the hardware's peak.
    public static func executedMultiplyAdds(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int,
                                            kernel: Int, stride: Int, padding: Int, inputGradient: Bool) -> Int {
        let span = { (n: Int) in (n + 2 * padding - kernel) / stride + 1 }
        let g = ConvGeometry(batch: batch, inChannels: inChannels, inH: height, inW: width, outChannels: outChannels,
                             kh: kernel, kw: kernel, stride: stride, dilation: 1, groups: 1, padTop: padding,
                             padLeft: padding, outH: span(height), outW: span(width))
        // The input gradient is itself a convolution only on the flipped-kernel path (see ConvKernels.inputGrad).
        let computed = inputGradient && ConvKernels.inputGradIsFlippedConv(g) ? ConvKernels.flippedGeometry(g) : g
        guard Winograd.runs(layer: g) else { return g.macs }
        let (rows, cols) = Winograd.tiles(computed)
        return computed.batch * computed.outChannels * computed.inChannels * 16 * rows * cols
    }
}

enum ConvKernels {
    /// Output pixels per work item of the forward pass (a multiple of GEMM.nr), before balancing.
    static let pixelBlock = 256

    /// Pixel block size for `plane` pixels per image-group and `units` image-groups: about `pixelBlock`,
    /// adjusted so small jobs split into a multiple of the thread count (blocks never change a result bit).
    static func balancedPixelBlock(plane: Int, units: Int) -> Int {
        let threads = Parallel.threads
        var blocks = (plane + pixelBlock - 1) / pixelBlock
        if (units * blocks) % threads != 0 && units * blocks < 8 * threads {
            blocks = GEMM.roundUp(blocks, threads)
        }
        return max(GEMM.nr, GEMM.roundUp((plane + blocks - 1) / blocks, GEMM.nr))
    }

    // MARK: Forward

    /// y (N, O, outH, outW) = conv(x (N, C, H, W), w (O, C/groups, kh, kw)) + bias, then max(., 0) if `relu`.
    /// y is fully overwritten. `identity`, the name w's owner gives it, lets the Winograd path reuse its weight
    /// transform from earlier calls (`TransformedWeightCache`).
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>, identity: WeightsIdentity? = nil) {
        let kg = g.kg, og = g.og, plane = g.outPlane
        if plane == 0 || og == 0 || g.batch == 0 { return }
        if kg == 0 { fillBiasOnly(g, bias: bias, relu: relu, y: y); return }
        if DepthwiseConv.runs(layer: g) { DepthwiseConv.forward(g, x: x, w: w, bias: bias, relu: relu, y: y); return }
        if Winograd.runs(layer: g) {
            let u = TransformedWeightCache.transformed(identity, outputs: g.outChannels, channels: g.inChannels, flipped: false) {
                Winograd.transformWeights(w, outputs: g.outChannels, channels: g.inChannels, into: $0)
            }
            Winograd.forward(g, x: x, u: u, bias: bias, relu: relu, y: y)
            return
        }
        let perGroup = PackedA.count(m: og, k: kg)
        let kBlock = GEMM.convKBlock(kernelArea: g.kh * g.kw)
        withAlignedScratch(perGroup * g.groups) { aBuf in
            var packs: [PackedA] = []
            for gi in 0..<g.groups {
                packs.append(PackedA.pack(m: og, k: kg, w + gi * og * kg, rowStride: kg, colStride: 1,
                                          into: aBuf + gi * perGroup, kBlock: kBlock))
            }
            // Pixels of all images form one axis (q = n * plane + p), so small planes (13x13, 14x14) fill whole
            // GEMM.nr-column strips; a strip that straddles two images is stored through a small tile.
            let total = g.batch * plane
            let pixelBlock = balancedPixelBlock(plane: total, units: g.groups)
            let blocks = (total + pixelBlock - 1) / pixelBlock
            let items = g.groups * blocks
            let mPanels = packs[0].mPanels
            // Few pixels (deep layers, batch 1): also split the output channels so both cores work.
            let want = 2 * Parallel.threads
            let oChunks = items >= want ? 1 : min(mPanels, (want + items - 1) / items)
            let panelsPer = (mPanels + oChunks - 1) / oChunks
            let nr = GEMM.nr, mr = GEMM.mr
            packs.withUnsafeBufferPointer { packs in
                Parallel.forEach(items * oChunks) { item in
                    let oc = item % oChunks, rest = item / oChunks
                    let blk = rest % blocks, gi = rest / blocks
                    let panels = GEMM.chunk(oc, size: panelsPer, of: mPanels)
                    if panels.isEmpty { return }
                    let q0 = blk * pixelBlock, width = min(pixelBlock, total - q0)
                    let strips = (width + nr - 1) / nr
                    /// Calls body(n, p, count, column) for the image runs of columns 0 ..< width of this block.
                    func forEachImageRun(_ body: (Int, Int, Int, Int) -> Void) {
                        var q = q0
                        while q < q0 + width {
                            let n = q / plane, p = q - n * plane, count = min(plane - p, q0 + width - q)
                            body(n, p, count, q - q0)
                            q += count
                        }
                    }
                    // The im2col block is packed k-major, one row of `ldb` floats per k: whole pixel runs are
                    // gathered in one go, and the micro-kernel reads its strips in place.
                    let ldb = GEMM.blockRowStride(width)
                    withAlignedScratch(kBlock * ldb + mr * nr) { scratch in
                        let bBuf = scratch, tile = scratch + kBlock * ldb
                        var k0 = 0
                        while k0 < kg {
                            let kcLen = min(kBlock, kg - k0)
                            forEachImageRun { n, p, count, col in
                                Im2col.gather(g, x + (n * g.inChannels + gi * g.cg) * g.inPlane, k0: k0, k1: k0 + kcLen,
                                              p0: p, width: count, bBuf + col, ld: ldb, zeroTail: false)
                            }
                            if width < strips * nr {
                                for k in 0..<kcLen { zeroFloats(bBuf + k * ldb + width, strips * nr - width) }
                            }
                            let accumulate = k0 > 0
                            for panel in panels {
                                let rows = min(mr, og - panel * mr)
                                let a = packs[gi].panel(k0: k0, kcLen: kcLen, panel: panel)
                                for strip in 0..<strips {
                                    let c0 = q0 + strip * nr, cols = min(nr, q0 + width - c0)
                                    let n0 = c0 / plane, p0 = c0 - n0 * plane
                                    let oBase = gi * og + panel * mr
                                    if p0 + cols <= plane {
                                        GEMM.microKernel(kcLen, a, bBuf + strip * nr, ldb: ldb,
                                                         y + (n0 * g.outChannels + oBase) * plane + p0, ldc: plane,
                                                         rows: rows, cols: cols, accumulate: accumulate)
                                        continue
                                    }
                                    GEMM.microKernel(kcLen, a, bBuf + strip * nr, ldb: ldb, tile, ldc: nr,
                                                     rows: rows, cols: nr, accumulate: false)
                                    var j = 0
                                    while j < cols {
                                        let q = c0 + j, n = q / plane, pp = q - n * plane, seg = min(plane - pp, cols - j)
                                        for r in 0..<rows {
                                            let dst = y + (n * g.outChannels + oBase + r) * plane + pp, src = tile + r * nr + j
                                            if accumulate { for t in 0..<seg { dst[t] += src[t] } }
                                            else { for t in 0..<seg { dst[t] = src[t] } }
                                        }
                                        j += seg
                                    }
                                }
                            }
                            k0 += kcLen
                        }
                    }
                    if bias != nil || relu {
                        let o1 = min(og, panels.upperBound * mr)
                        forEachImageRun { n, p, count, _ in
                            for o in (panels.lowerBound * mr)..<o1 {
                                let row = y + (n * g.outChannels + gi * og + o) * plane + p
                                let b = bias?[gi * og + o] ?? 0
                                if relu { for j in 0..<count { row[j] = max(row[j] + b, 0) } }
                                else { for j in 0..<count { row[j] += b } }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A convolution with no input channels: the output is the bias alone.
    private static func fillBiasOnly(_ g: ConvGeometry, bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                var b = bias?[o] ?? 0
                if relu { b = max(b, 0) }
                let row = y + (n * g.outChannels + o) * g.outPlane
                for j in 0..<g.outPlane { row[j] = b }
            }
        }
    }

    // MARK: Gradient of the input

    /// dx (N, C, H, W) = the adjoint of the convolution applied to dy (N, O, outH, outW); dx is overwritten.
    ///
    /// Depthwise layers: `DepthwiseConv.inputGrad`. Stride 1 with enough channels per group: a forward convolution of dy with the flipped, transposed
    /// weights (the fast GEMM path). Otherwise: GEMM into im2col columns, then col2im, split by input channel.
    /// `identity` names w for the transform cache, when its owner gives one (see `forward`).
    static func inputGrad(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                          dx: UnsafeMutablePointer<Float>, identity: WeightsIdentity? = nil) {
        if DepthwiseConv.runs(layer: g) {
            DepthwiseConv.inputGrad(g, dy: dy, w: w, dx: dx)
        } else if inputGradIsFlippedConv(g) {
            inputGradByFlippedConv(g, dy: dy, w: w, dx: dx, identity: identity)
        } else {
            inputGradByCol2im(g, dy: dy, w: w, dx: dx)
        }
    }

    /// Whether the input gradient of `g` is computed as a convolution (`flippedGeometry`), not by col2im.
    static func inputGradIsFlippedConv(_ g: ConvGeometry) -> Bool { g.stride == 1 && g.cg >= GEMM.mr }

    /// The geometry of the flipped convolution that maps dy to dx (stride 1 only).
    static func flippedGeometry(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(batch: g.batch, inChannels: g.outChannels, inH: g.outH, inW: g.outW,
                     outChannels: g.inChannels, kh: g.kh, kw: g.kw, stride: 1, dilation: g.dilation, groups: g.groups,
                     padTop: g.dilation * (g.kh - 1) - g.padTop, padLeft: g.dilation * (g.kw - 1) - g.padLeft,
                     outH: g.inH, outW: g.inW)
    }

    private static func inputGradByFlippedConv(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                               dx: UnsafeMutablePointer<Float>, identity: WeightsIdentity?) {
        let flipped = flippedGeometry(g)
        if Winograd.runs(layer: g) {   // the layer's rule: the same path whatever the restricted channel count
            let u = TransformedWeightCache.transformed(identity, outputs: g.inChannels, channels: g.outChannels, flipped: true) { u in
                withAlignedScratch(g.inChannels * g.og * g.kh * g.kw) { wf in
                    flipWeights(g, w, into: wf)
                    Winograd.transformWeights(wf, outputs: g.inChannels, channels: g.outChannels, into: u)
                }
            }
            Winograd.forward(flipped, x: dy, u: u, bias: nil, relu: false, y: dx)
            return
        }
        withAlignedScratch(g.inChannels * g.og * g.kh * g.kw) { wf in
            flipWeights(g, w, into: wf)
            forward(flipped, x: dy, w: wf, bias: nil, relu: false, y: dx)
        }
    }

    /// wf[(group c), o, ky', kx'] = w[(group o), c, kh-1-ky', kw-1-kx']: shape (C, O/groups, kh, kw), the weights of
    /// the convolution that maps dy to dx.
    private static func flipWeights(_ g: ConvGeometry, _ w: UnsafePointer<Float>, into wf: UnsafeMutablePointer<Float>) {
        let kk = g.kh * g.kw, cg = g.cg, og = g.og
        Parallel.forRanges(g.groups * og, grain: 16) { range in
            for go in range {
                let gi = go / og, o = go % og
                for c in 0..<cg {
                    let src = w + ((gi * og + o) * cg + c) * kk
                    let dst = wf + ((gi * cg + c) * og + o) * kk
                    for r in 0..<kk { dst[kk - 1 - r] = src[r] }
                }
            }
        }
    }

    private static func inputGradByCol2im(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                          dx: UnsafeMutablePointer<Float>) {
        let kk = g.kh * g.kw, kg = g.kg, og = g.og, plane = g.outPlane
        let total = g.batch * g.inChannels * g.inPlane
        for i in 0..<total { dx[i] = 0 }
        if plane == 0 || og == 0 { return }
        // Channels per work item: enough im2col rows to fill micro-tiles.
        let cc = max(1, min(g.cg, (4 * GEMM.mr + kk - 1) / kk))
        let chunks = (g.cg + cc - 1) / cc
        Parallel.forEach(g.batch * g.groups * chunks) { item in
            let ch = item % chunks, gi = (item / chunks) % g.groups, n = item / (chunks * g.groups)
            let c0 = ch * cc, c1 = min(g.cg, c0 + cc)
            let rows = (c1 - c0) * kk
            // A[i, o] = w[group o, k = c0 * kk + i]: the transposed weights of these channels.
            let wg = w + gi * og * kg + c0 * kk
            let dyg = dy + (n * g.outChannels + gi * og) * plane
            let dxg = dx + (n * g.inChannels + gi * g.cg) * g.inPlane
            withAlignedScratch(PackedA.count(m: rows, k: og)) { aBuf in
                let packed = PackedA.pack(m: rows, k: og, wg, rowStride: 1, colStride: kg, into: aBuf)
                let pc = GEMM.nc
                withAlignedScratch(GEMM.kc * pc + rows * pc) { scratch in
                    let bBuf = scratch, cols = scratch + GEMM.kc * pc
                    var p0 = 0
                    while p0 < plane {
                        let width = min(pc, plane - p0)
                        var k0 = 0
                        while k0 < og {
                            let kcLen = min(GEMM.kc, og - k0)
                            packBStrips(dyg, rowStride: plane, colStride: 1, k0: k0, kcLen: kcLen, j0: p0, width: width,
                                        into: bBuf)
                            GEMM.macroKernel(packed, k0: k0, kcLen: kcLen, panels: 0..<packed.mPanels, bBuf, width: width,
                                             cols, ldc: width, accumulate: k0 > 0)
                            k0 += kcLen
                        }
                        Im2col.scatterAdd(g, cols, ld: width, k0: c0 * kk, k1: c1 * kk, p0: p0, width: width, dxg)
                        p0 += width
                    }
                }
            }
        }
    }

    // MARK: Gradient of the weights and bias

    /// dw (O, C/groups, kh, kw) = sum over images and pixels of dy * im2col(x); dw is overwritten.
    /// Split by blocks of dw columns; images and pixels are summed in one fixed order.
    static func weightGrad(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                           dw: UnsafeMutablePointer<Float>) {
        if DepthwiseConv.runs(layer: g) { DepthwiseConv.weightGrad(g, x: x, dy: dy, dw: dw); return }
        let kg = g.kg, og = g.og, plane = g.outPlane
        for i in 0..<(g.outChannels * kg) { dw[i] = 0 }
        if plane == 0 || og == 0 || kg == 0 { return }
        let colChunks = max(1, min((kg + GEMM.nr - 1) / GEMM.nr, (4 * Parallel.threads + g.groups - 1) / g.groups))
        let chunkWidth = GEMM.roundUp((kg + colChunks - 1) / colChunks, GEMM.nr)
        let chunks = (kg + chunkWidth - 1) / chunkWidth
        Parallel.forEach(g.groups * chunks) { item in
            let gi = item / chunks, j0 = (item % chunks) * chunkWidth, jw = min(chunkWidth, kg - j0)
            let pc = GEMM.kc
            let aCount = PackedA.count(m: og, k: pc), bCount = pc * GEMM.roundUp(jw, GEMM.nr), colCount = jw * pc
            withAlignedScratch(aCount + bCount + colCount) { scratch in
                let aBuf = scratch, bBuf = scratch + aCount, cols = scratch + aCount + bCount
                for n in 0..<g.batch {
                    let xg = x + (n * g.inChannels + gi * g.cg) * g.inPlane
                    let dyg = dy + (n * g.outChannels + gi * og) * plane
                    var p0 = 0
                    while p0 < plane {
                        let len = min(pc, plane - p0)
                        let packed = PackedA.pack(m: og, k: len, dyg + p0, rowStride: plane, colStride: 1, into: aBuf)
                        Im2col.gather(g, xg, k0: j0, k1: j0 + jw, p0: p0, width: len, cols, ld: len)
                        packBStrips(cols, rowStride: 1, colStride: len, k0: 0, kcLen: len, j0: 0, width: jw, into: bBuf)
                        GEMM.macroKernel(packed, k0: 0, kcLen: len, panels: 0..<packed.mPanels, bBuf, width: jw,
                                         dw + gi * og * kg + j0, ldc: kg, accumulate: true)
                        p0 += len
                    }
                }
            }
        }
    }

    /// db[o] = sum of dy[n, o, :, :] over images and pixels, in a fixed order.
    static func biasGrad(batch: Int, channels: Int, plane: Int, dy: UnsafePointer<Float>, db: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(channels, grain: 8) { range in
            for o in range {
                var total: Float = 0
                for n in 0..<batch {
                    let row = dy + (n * channels + o) * plane
                    var s: Float = 0
                    for j in 0..<plane { s += row[j] }
                    total += s
                }
                db[o] = total
            }
        }
    }
}
