// Depthwise convolution (groups == channels == outputs: one k x k filter per channel, MBConv's middle layer) over
// raw NCHW buffers: forward (bias, fused ReLU), gradient of the input, gradient of the weights.
//
// The generic grouped path runs one tiny GEMM (depth k*k, one row) per channel; here each (image, channel) plane is
// a 2-D correlation vectorised over its output pixels. A stride-s plane is first copied, zero-padded, into s*s phase
// planes (phase (a, b) holds padded rows a, a+s, ... and columns b, b+s, ...), so every tap of every output reads a
// contiguous run: tap (ky, kx) of output (oy, ox) is phase (ky % s, kx % s) at (oy + ky / s, ox + kx / s). Outputs
// are computed on the phase grid (pitch `pitch` >= outW) as one flat run, so planes of 7x7 fill whole SIMD16
// vectors; the columns past outW are computed and dropped.
//
// Bits: an output is `0 + w[0]·x[0] + w[1]·x[1] + ...` as a chain of fused multiply-adds in (ky, kx) order, padding
// taps included, then `+ bias` (and `max(., 0)`): the same operations as the generic path's micro-kernel on a
// one-channel group, so the forward values are bit-identical to `.direct` and never depend on the batch or the
// thread count (each plane is one work item; chunking planes never changes a sum). Each input-gradient element is
// one fused chain in (ky, kx) order too (fixed, batch- and thread-independent), but the generic col2im adds rounded
// products in another order, so there the two paths agree to rounding only. Any stride works (s*s phases).

enum DepthwiseConv {
    /// Whether `g` is a layer this path computes: one filter per channel (groups == C == O, at least 2), dilation 1.
    /// A 1 -> 1 convolution stays on the generic path: it can be one filter of a 1-channel-input layer restricted
    /// to the filters a batch computes, and a restricted layer must keep the path of the whole layer.
    static func isEligible(layer g: ConvGeometry) -> Bool {
        g.groups >= 2 && g.inChannels == g.groups && g.outChannels == g.groups && g.dilation == 1
    }

    /// Whether `layer` is computed by this path now: eligible, and the algorithm in force is `.automatic`.
    static func runs(layer g: ConvGeometry) -> Bool { ConvAlgorithm.current == .automatic && isEligible(layer: g) }

    /// Planes per work item: enough output pixels to amortise the scratch set-up, and at least 8 items per thread.
    static func planesPerItem(_ g: ConvGeometry) -> Int {
        let planes = g.batch * g.inChannels
        return max(1, min(8192 / max(g.outPlane, 1), planes / (8 * Parallel.threads)))
    }

    // MARK: Forward

    /// y (N, C, outH, outW) = depthwise conv(x (N, C, H, W), w (C, 1, kh, kw)) + bias, then max(., 0) if `relu`.
    /// y is fully overwritten.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>) {
        let ph = PhaseLayout(g), kk = g.kh * g.kw
        let gridCount = g.outH * ph.pitch
        let planes = g.batch * g.inChannels, per = planesPerItem(g)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: kk) { offsets in
            for ky in 0..<g.kh { for kx in 0..<g.kw { offsets[ky * g.kw + kx] = ph.offset(ky: ky, kx: kx) } }
            let offsets = UnsafePointer(offsets.baseAddress!)
            Parallel.forEach((planes + per - 1) / per) { item in
                withAlignedScratch(ph.count + GEMM.roundUp(gridCount, 64)) { scratch in
                    let phases = scratch, grid = scratch + ph.count
                    zeroFloats(phases, ph.count)
                    for plane in (item * per)..<min(planes, (item + 1) * per) {
                        let c = plane % g.inChannels
                        ph.fill(from: x + plane * g.inPlane, into: phases)
                        correlate(phases, offsets: offsets, weights: w + c * kk, taps: kk, count: gridCount, into: grid)
                        let b = bias?[c] ?? 0
                        for oy in 0..<g.outH {
                            store(grid + oy * ph.pitch, y + plane * g.outPlane + oy * g.outW, count: g.outW,
                                  bias: b, hasBias: bias != nil, relu: relu)
                        }
                    }
                }
            }
        }
    }

    // MARK: Gradient of the input

    /// dx (N, C, H, W) = the adjoint of the depthwise convolution applied to dy (N, C, outH, outW); overwritten.
    ///
    /// Per phase (a, b): dphase[i, j] = Σ over the taps (ky, kx) of that phase of w[ky, kx] · dy[i - ky/s, j - kx/s],
    /// a stride-1 correlation of dy (zero-padded on a grid of pitch `dPitch`) with those taps flipped, again one
    /// fused multiply-add chain in (ky, kx) order per element; then dx takes its pixels back from the phases.
    static func inputGrad(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                          dx: UnsafeMutablePointer<Float>) {
        let ph = PhaseLayout(g), s = g.stride, kk = g.kh * g.kw
        let offY = (g.kh - 1) / s, offX = (g.kw - 1) / s
        let dPitch = ph.pitch + offX
        // dy sits at (oy + offY, ox + offX) of a zero grid, so every tap reads at a non-negative offset.
        let dyCount = (ph.rows + offY) * dPitch + offX + 64
        let gridCount = ph.rows * dPitch, gridStride = GEMM.roundUp(gridCount, 64)
        let planes = g.batch * g.inChannels, per = planesPerItem(g)
        // Taps grouped by phase, each group in (ky, kx) order: tapIndex[t] = ky * kw + kx, tapOffset[t] its read.
        var tapIndex: [Int] = [], tapOffset: [Int] = [], phaseStart: [Int] = [0]
        for a in 0..<s {
            for b in 0..<s {
                for ky in stride(from: a, to: g.kh, by: s) {
                    for kx in stride(from: b, to: g.kw, by: s) {
                        tapIndex.append(ky * g.kw + kx)
                        tapOffset.append((offY - ky / s) * dPitch + offX - kx / s)
                    }
                }
                phaseStart.append(tapIndex.count)
            }
        }
        tapIndex.withUnsafeBufferPointer { tapIndex in
            tapOffset.withUnsafeBufferPointer { tapOffset in
                Parallel.forEach((planes + per - 1) / per) { item in
                    withAlignedScratch(dyCount + s * s * gridStride + kk) { scratch in
                        let dyGrid = scratch, dPhases = scratch + dyCount, weights = dPhases + s * s * gridStride
                        zeroFloats(dyGrid, dyCount)
                        for plane in (item * per)..<min(planes, (item + 1) * per) {
                            let c = plane % g.inChannels
                            for t in 0..<kk { weights[t] = w[c * kk + tapIndex[t]] }
                            for oy in 0..<g.outH {
                                copyFloats(dy + plane * g.outPlane + oy * g.outW, dyGrid + (oy + offY) * dPitch + offX, g.outW)
                            }
                            for p in 0..<(s * s) {
                                let t0 = phaseStart[p], taps = phaseStart[p + 1] - t0
                                if taps == 0 { zeroFloats(dPhases + p * gridStride, gridCount); continue }
                                correlate(dyGrid, offsets: tapOffset.baseAddress! + t0, weights: weights + t0, taps: taps,
                                          count: gridCount, into: dPhases + p * gridStride)
                            }
                            ph.gather(dPhases, pitch: dPitch, phaseStride: gridStride, into: dx + plane * g.inPlane)
                        }
                    }
                }
            }
        }
    }

    // MARK: Gradient of the weights

    /// dw (C, 1, kh, kw) = Σ over images and output pixels of dy · (the input pixel each tap reads); overwritten.
    /// One work item per channel; images are added in order, so the sums never depend on the thread count.
    static func weightGrad(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                           dw: UnsafeMutablePointer<Float>) {
        let ph = PhaseLayout(g), kk = g.kh * g.kw
        let gridCount = g.outH * ph.pitch, gridStride = GEMM.roundUp(gridCount, 16)
        Parallel.forEach(g.inChannels) { c in
            withAlignedScratch(ph.count + gridStride) { scratch in
                let phases = scratch, grid = scratch + ph.count
                // dy on the phase grid; the dropped columns (ox >= outW) and the vector tail stay zero.
                zeroFloats(phases, ph.count + gridStride)
                for t in 0..<kk { dw[c * kk + t] = 0 }
                for n in 0..<g.batch {
                    let plane = n * g.inChannels + c
                    ph.fill(from: x + plane * g.inPlane, into: phases)
                    for oy in 0..<g.outH { copyFloats(dy + plane * g.outPlane + oy * g.outW, grid + oy * ph.pitch, g.outW) }
                    for ky in 0..<g.kh {
                        for kx in 0..<g.kw {
                            let src = phases + ph.offset(ky: ky, kx: kx)
                            var acc = SIMD16<Float>()
                            var q = 0
                            while q < gridCount { acc = acc.addingProduct(load16(grid + q), load16(src + q)); q += 16 }
                            dw[c * kk + ky * g.kw + kx] += acc.sum()
                        }
                    }
                }
            }
        }
    }

    // MARK: The inner loops

    /// dst = src + bias, then max(., 0) if `relu`: the generic path's epilogue, operation for operation
    /// (`Swift.max(v, 0)` is `0 >= v ? 0 : v`, so -0 becomes 0 and NaN stays). Rows of 16 and more take 16 at a
    /// time, the last vector overlapping the one before (dst is a function of src, so writing twice is harmless).
    @inline(__always)
    private static func store(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int,
                              bias b: Float, hasBias: Bool, relu: Bool) {
        if !hasBias && !relu { copyFloats(src, dst, count); return }
        if count >= 16 {
            let bv = SIMD16<Float>(repeating: b)
            var j = 0
            while true {
                let v = load16(src + j) + bv
                store16(relu ? v.replacing(with: 0, where: v .<= 0) : v, dst + j)
                if j + 16 == count { break }
                j = min(j + 16, count - 16)
            }
        } else if count >= 4 {
            // Rows of 7 and 14 (the last stages): four at a time, the same way.
            let bv = SIMD4<Float>(repeating: b)
            var j = 0
            while true {
                let v = load4(src + j) + bv
                store4(relu ? v.replacing(with: 0, where: v .<= 0) : v, dst + j)
                if j + 4 == count { break }
                j = min(j + 4, count - 4)
            }
        } else {
            if relu { for j in 0..<count { dst[j] = max(src[j] + b, 0) } } else { for j in 0..<count { dst[j] = src[j] + b } }
        }
    }

    /// out[q] = 0 + Σ_t weights[t] · src[q + offsets[t]] (fused, in t order) for q in 0 ..< count rounded up to 64
    /// (no tail loop: four independent chains always, which small planes such as 7x7's 63 grid outputs need).
    /// src must be readable up to count + 63 + max(offsets).
    @inline(__always)
    private static func correlate(_ src: UnsafePointer<Float>, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                                  taps: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        var q = 0
        // Four vectors per pass: each weight broadcast and offset load serves 64 outputs.
        while q < count {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            for t in 0..<taps {
                let wt = SIMD16<Float>(repeating: weights[t]), p = src + offsets[t] + q
                a0 = a0.addingProduct(wt, load16(p)); a1 = a1.addingProduct(wt, load16(p + 16))
                a2 = a2.addingProduct(wt, load16(p + 32)); a3 = a3.addingProduct(wt, load16(p + 48))
            }
            store16(a0, out + q); store16(a1, out + q + 16); store16(a2, out + q + 32); store16(a3, out + q + 48)
            q += 64
        }
    }
}

/// The s*s zero-padded phase planes of one input plane: phase (a, b) holds padded rows a, a+s, ... and columns
/// b, b+s, ..., `rows` x `pitch`, each followed by zeroed slack so the vector loops may read past the grid.
/// Only the padded extent the outputs read is kept: (outH - 1)·s + kh rows, (outW - 1)·s + kw columns.
struct PhaseLayout {
    let s: Int, kw: Int
    let inH: Int, inW: Int, padTop: Int, padLeft: Int
    /// Padded extent read by the outputs.
    let paddedH: Int, paddedW: Int
    /// Rows and row pitch of each phase plane.
    let rows: Int, pitch: Int
    /// Floats per phase plane, slack included.
    let planeStride: Int

    init(_ g: ConvGeometry) {
        s = g.stride; kw = g.kw
        inH = g.inH; inW = g.inW; padTop = g.padTop; padLeft = g.padLeft
        paddedH = (g.outH - 1) * s + g.kh
        paddedW = (g.outW - 1) * s + g.kw
        rows = (paddedH + s - 1) / s
        pitch = (paddedW + s - 1) / s
        // The forward computes outH·pitch outputs rounded up to 64, reading at most ((kh-1)/s)·pitch + (kw-1)/s
        // past each: below rows·pitch + (kw-1)/s + 64 (outH + (kh-1)/s <= rows).
        planeStride = GEMM.roundUp(rows * pitch + (g.kw - 1) / s + 64, 16)
    }

    /// Floats for all phases.
    var count: Int { s * s * planeStride }

    /// Where tap (ky, kx) of output (0, 0) reads, relative to the first phase.
    func offset(ky: Int, kx: Int) -> Int { ((ky % s) * s + kx % s) * planeStride + (ky / s) * pitch + kx / s }

    /// Copies the (inH, inW) plane `x` into the phases. Only the input's pixels are written, the same places for
    /// every plane: the caller zeroes the buffer once (padding and slack), then fills plane after plane.
    func fill(from x: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>) {
        let columnLimit = min(paddedW, inW + padLeft)
        for a in 0..<s {
            for b in 0..<s {
                let phase = phases + (a * s + b) * planeStride
                // Columns j of this phase that hold input: 0 <= s·j + b - padLeft < inW, s·j + b < paddedW.
                let lo = min(pitch, max(0, (padLeft - b + s - 1) / s))
                let hi = max(lo, min(pitch, (columnLimit - b + s - 1) / s))
                for i in 0..<rows {
                    let r = i * s + a, iy = r - padTop
                    let dst = phase + i * pitch
                    guard r < paddedH, iy >= 0, iy < inH else { continue }
                    let src = x + iy * inW + b - padLeft
                    if s == 1 { copyFloats(src + lo, dst + lo, hi - lo) }
                    else { stridedCopy(src, s, dst, lo, hi) }
                }
            }
        }
    }

    /// The adjoint of `fill` without the padding: dx[iy, ix] = the phase value of padded pixel (iy + padTop,
    /// ix + padLeft), 0 for pixels no output reads. Phases have row pitch `pitch` and start `phaseStride` apart.
    func gather(_ phases: UnsafePointer<Float>, pitch: Int, phaseStride: Int, into dx: UnsafeMutablePointer<Float>) {
        let width = max(0, min(inW, paddedW - padLeft))
        for iy in 0..<inH {
            let r = iy + padTop, dst = dx + iy * inW
            guard r < paddedH else { zeroFloats(dst, inW); continue }
            let row = phases + (r % s) * s * phaseStride + (r / s) * pitch
            if s == 1 {
                copyFloats(row + padLeft, dst, width)
            } else if s == 2 {
                // dx column 2i is padded column 2i + padLeft: phase padLeft % 2, index i + padLeft / 2; 2i + 1 the other.
                let even = row + (padLeft % 2) * phaseStride + padLeft / 2
                let odd = row + ((padLeft + 1) % 2) * phaseStride + (padLeft + 1) / 2
                var i = 0
                while 2 * i + 32 <= width { storeInterleaved(load16(even + i), load16(odd + i), dst + 2 * i); i += 16 }
                while 2 * i < width {
                    dst[2 * i] = even[i]
                    if 2 * i + 1 < width { dst[2 * i + 1] = odd[i] }
                    i += 1
                }
            } else {
                // Column phase by column phase (a division per pixel would cost more than the copy).
                for b in 0..<s {
                    let src = row + b * phaseStride, lo = (padLeft - b + s - 1) / s, hi = (width + padLeft - b + s - 1) / s
                    if lo < hi { for j in lo..<hi { dst[j * s + b - padLeft] = src[j] } }
                }
            }
            if width < inW { zeroFloats(dst + width, inW - width) }
        }
    }
}

/// dst[j] = src[j * s] for j in lo ..< hi; stride 2 takes 16 at a time (the even lanes of 32), its vector reads
/// staying at or before src[(hi - 1) * s], the last element the caller vouches for.
@inline(__always)
private func stridedCopy(_ src: UnsafePointer<Float>, _ s: Int, _ dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
    var j = lo
    if s == 2 { while j + 17 <= hi { store16(loadDeinterleaved(src + 2 * j).0, dst + j); j += 16 } }
    while j < hi { dst[j] = src[j * s]; j += 1 }
}
