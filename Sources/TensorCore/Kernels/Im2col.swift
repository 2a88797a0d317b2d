// The geometry of a 2-D convolution and the (implicit) im2col matrix it multiplies.
//
// For one image and one group, column p (an output pixel oy * outW + ox) and row k = (c * kh + ky) * kw + kx of
// the im2col matrix hold x[c, oy * stride - padTop + ky * dilation, ox * stride - padLeft + kx * dilation]
// (zero outside the image). The matrix is never stored whole: the forward pass writes the rows and columns it
// needs straight into the GEMM's packed B strips, and col2im scatters a gradient block back.

/// Sizes of one 2-D convolution: x (N, C, H, W) * w (O, C/groups, kh, kw) -> y (N, O, outH, outW).
struct ConvGeometry: Equatable {
    var batch: Int, inChannels: Int, inH: Int, inW: Int
    var outChannels: Int, kh: Int, kw: Int
    var stride: Int, dilation: Int, groups: Int
    var padTop: Int, padLeft: Int
    var outH: Int, outW: Int

    var inPlane: Int { inH * inW }
    var outPlane: Int { outH * outW }
    /// Input channels per group.
    var cg: Int { inChannels / groups }
    /// Output channels per group.
    var og: Int { outChannels / groups }
    /// Rows of the im2col matrix per group (the GEMM depth).
    var kg: Int { cg * kh * kw }
    /// Multiply-adds of the forward pass.
    var macs: Int { batch * outChannels * outPlane * kg }
}

/// One run of consecutive output pixels on the same output row: columns col ..< col+count of a block.
private struct PixelRun { var col: Int32, count: Int32, oy: Int32, ox: Int32 }

/// Calls `body` with the runs covering output pixels p0 ..< p0+width.
@inline(__always)
private func withPixelRuns<R>(_ g: ConvGeometry, p0: Int, width: Int, _ body: (UnsafeBufferPointer<PixelRun>) -> R) -> R {
    let maxRuns = min(width, width / max(g.outW, 1) + 2)
    return withUnsafeTemporaryAllocation(of: PixelRun.self, capacity: maxRuns) { runs in
        var n = 0, col = 0, p = p0
        while col < width {
            let oy = p / g.outW, ox = p % g.outW
            let count = min(g.outW - ox, width - col)
            runs[n] = PixelRun(col: Int32(col), count: Int32(count), oy: Int32(oy), ox: Int32(ox))
            n += 1; col += count; p += count
        }
        return body(UnsafeBufferPointer(rebasing: runs[0..<n]))
    }
}

/// The valid range t in 0 ..< count with 0 <= ix0 + t * s < limit.
@inline(__always)
private func validRange(_ ix0: Int, _ s: Int, _ count: Int, _ limit: Int) -> (Int, Int) {
    if s == 1 {
        let lo = min(max(-ix0, 0), count)
        return (lo, max(lo, min(count, limit - ix0)))
    }
    let lo = min(ix0 >= 0 ? 0 : (-ix0 + s - 1) / s, count)
    let hi = ix0 >= limit ? 0 : min(count, (limit - 1 - ix0) / s + 1)
    return (lo, max(lo, hi))
}

/// The (channel, ky, kx) of im2col rows k0, k0+1, ...: stepped without divisions (one per row would cost
/// more than copying the row's 32 floats).
private struct KernelTap {
    var c: Int, ky: Int, kx: Int
    let kh: Int, kw: Int
    init(_ k: Int, kh: Int, kw: Int) {
        let kk = kh * kw
        c = k / kk; ky = (k % kk) / kw; kx = k % kw
        self.kh = kh; self.kw = kw
    }
    @inline(__always) mutating func advance() {
        kx += 1
        if kx == kw { kx = 0; ky += 1; if ky == kh { ky = 0; c += 1 } }
    }
}

/// dst[t] = src[t * s] for t in lo ..< hi. Strides 2 and 4 (AlexNet's conv1) take 16 at a time by keeping even
/// lanes, while the vector reads stay before src[(hi - 1) * s], the last element the caller vouches for.
@inline(__always)
private func stridedCopy(_ src: UnsafePointer<Float>, _ s: Int, _ dst: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
    var t = lo
    if s == 2 {
        while t + 17 <= hi { store16(evenLanes(load16(src + 2 * t), load16(src + 2 * t + 16)), dst + t); t += 16 }
    } else if s == 4 {
        while t + 17 <= hi {
            let p = src + 4 * t
            let low = evenLanes(load16(p), load16(p + 16)), high = evenLanes(load16(p + 32), load16(p + 48))
            store16(evenLanes(low, high), dst + t)
            t += 16
        }
    }
    while t < hi { dst[t] = src[t * s]; t += 1 }
}

enum Im2col {
    /// Writes rows k0 ..< k1 of one image-group's im2col matrix, columns (output pixels) p0 ..< p0+width, to
    /// out[(k - k0) * ld + j]; columns width ..< ld are zero-filled unless `zeroTail` is false. `x` points at
    /// the group's first channel.
    static func gather(_ g: ConvGeometry, _ x: UnsafePointer<Float>, k0: Int, k1: Int, p0: Int, width: Int,
                       _ out: UnsafeMutablePointer<Float>, ld: Int, zeroTail: Bool = true) {
        let s = g.stride, d = g.dilation
        withPixelRuns(g, p0: p0, width: width) { runs in
            var tap = KernelTap(k0, kh: g.kh, kw: g.kw)
            for k in k0..<k1 {
                let c = tap.c, ky = tap.ky, kx = tap.kx
                tap.advance()
                let plane = x + c * g.inPlane
                let row = out + (k - k0) * ld
                for run in runs {
                    let dst = row + Int(run.col), count = Int(run.count)
                    let iy = Int(run.oy) * s - g.padTop + ky * d
                    if iy < 0 || iy >= g.inH {
                        zeroFloats(dst, count)
                        continue
                    }
                    let ix0 = Int(run.ox) * s - g.padLeft + kx * d
                    let (lo, hi) = validRange(ix0, s, count, g.inW)
                    let src = plane + iy * g.inW + ix0
                    if lo > 0 { zeroFloats(dst, lo) }
                    if s == 1 {
                        copyFloats(src + lo, dst + lo, hi - lo)
                    } else {
                        stridedCopy(src, s, dst, lo, hi)
                    }
                    if hi < count { zeroFloats(dst + hi, count - hi) }
                }
                if zeroTail && width < ld { zeroFloats(row + width, ld - width) }
            }
        }
    }

    /// The adjoint of `gather`: adds rows k0 ..< k1 of a column block (src[(k - k0) * ld + j], pixels
    /// p0 ..< p0+width) into the image-group `dx`. Callers give each channel to one thread only.
    static func scatterAdd(_ g: ConvGeometry, _ src: UnsafePointer<Float>, ld: Int, k0: Int, k1: Int, p0: Int, width: Int,
                           _ dx: UnsafeMutablePointer<Float>) {
        let s = g.stride, d = g.dilation
        withPixelRuns(g, p0: p0, width: width) { runs in
            var tap = KernelTap(k0, kh: g.kh, kw: g.kw)
            for k in k0..<k1 {
                let c = tap.c, ky = tap.ky, kx = tap.kx
                tap.advance()
                let plane = dx + c * g.inPlane
                let row = src + (k - k0) * ld
                for run in runs {
                    let iy = Int(run.oy) * s - g.padTop + ky * d
                    if iy < 0 || iy >= g.inH { continue }
                    let ix0 = Int(run.ox) * s - g.padLeft + kx * d
                    let (lo, hi) = validRange(ix0, s, Int(run.count), g.inW)
                    let dst = plane + iy * g.inW + ix0, from = row + Int(run.col)
                    if s == 1 {
                        for t in lo..<hi { dst[t] += from[t] }
                    } else {
                        for t in lo..<hi { dst[t * s] += from[t] }
                    }
                }
            }
        }
    }
}
