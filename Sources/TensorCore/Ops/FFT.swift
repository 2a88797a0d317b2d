import Foundation

// Real 2-D FFT over the last two axes, complex numbers as a trailing axis of 2 (torch.view_as_real layout),
// with torch.fft's default "backward" normalisation: rfft2 is unscaled, irfft2 divides by H*W.
//
// The engine is a mixed-radix Stockham FFT (radix 4, 2 and a generic odd radix with paired butterflies)
// that transforms many sequences at once: the data is `n` rows of `v` complex values and the transform runs
// down the rows, so the innermost loops are over `v` contiguous values and vectorise. The width pass packs
// two real image rows into one complex sequence. Any length works; a large prime factor costs O(p) per
// element instead of O(log p): one 3x224x224 rfft2 takes about 1.5 ms of one core, 3x227x227 (227 is
// prime) about 13 ms. Every plane is its own chunk of work, so results do not depend on the thread count.

/// A precomputed plan for complex transforms of length `n` down the rows of an (n, v) array.
struct FFTPlan {
    struct Stage {
        let radix: Int
        /// Product of the radices of the earlier stages (Stockham's Ns).
        let span: Int
        /// Twiddles e^{-2πi (j mod span) r / (span radix)} at [(j mod span) * radix + r].
        let twiddleCos: [Float]
        let twiddleSin: [Float]
        /// Roots of unity e^{-2πi m / radix} for the generic butterfly.
        let rootCos: [Float]
        let rootSin: [Float]
    }
    let n: Int
    let stages: [Stage]

    init(_ n: Int) {
        precondition(n >= 1, "FFT: length must be at least 1, got \(n)")
        self.n = n
        var factors: [Int] = []
        var rest = n
        while rest % 4 == 0 { factors.append(4); rest /= 4 }
        while rest % 2 == 0 { factors.append(2); rest /= 2 }
        var p = 3
        while rest > 1 {
            if p * p > rest { factors.append(rest); break }
            while rest % p == 0 { factors.append(p); rest /= p }
            p += 2
        }
        var stages: [Stage] = []
        var span = 1
        for radix in factors {
            var tc = [Float](repeating: 0, count: span * radix), ts = tc
            for jm in 0..<span {
                for r in 0..<radix {
                    let angle = -2 * Double.pi * Double(jm * r) / Double(span * radix)
                    tc[jm * radix + r] = Float(cos(angle))
                    ts[jm * radix + r] = Float(sin(angle))
                }
            }
            let rc = (0..<radix).map { Float(cos(-2 * Double.pi * Double($0) / Double(radix))) }
            let rs = (0..<radix).map { Float(sin(-2 * Double.pi * Double($0) / Double(radix))) }
            stages.append(Stage(radix: radix, span: span, twiddleCos: tc, twiddleSin: ts, rootCos: rc, rootSin: rs))
            span *= radix
        }
        self.stages = stages
    }

    /// Transforms (re, im), each n rows of v values, in place. Forward uses e^{-2πi kn/N}; inverse is unscaled.
    /// `scratch` buffers must hold n*v values (and `butterfly` max-radix*v values for generic stages).
    func transform(re: UnsafeMutablePointer<Float>, im: UnsafeMutablePointer<Float>, v: Int, inverse: Bool,
                   scratchRe: UnsafeMutablePointer<Float>, scratchIm: UnsafeMutablePointer<Float>) {
        var aRe = re, aIm = im, bRe = scratchRe, bIm = scratchIm
        let sign: Float = inverse ? -1 : 1  // multiplies every sine (conjugates the roots)
        let maxRadix = stages.map(\.radix).max() ?? 1
        let tRe = UnsafeMutablePointer<Float>.allocate(capacity: maxRadix * v)
        let tIm = UnsafeMutablePointer<Float>.allocate(capacity: maxRadix * v)
        defer { tRe.deallocate(); tIm.deallocate() }
        for stage in stages {
            let radix = stage.radix, span = stage.span, stride = n / radix
            for j in 0..<stride {
                let jm = j % span
                let outRow = (j / span) * span * radix + jm
                // Twiddled inputs t_r = a[j + r*stride] * w^r.
                for r in 0..<radix {
                    let src = (j + r * stride) * v
                    let c = stage.twiddleCos[jm * radix + r], s = sign * stage.twiddleSin[jm * radix + r]
                    let dRe = tRe + r * v, dIm = tIm + r * v
                    if jm == 0 || r == 0 {
                        for e in 0..<v { dRe[e] = aRe[src + e]; dIm[e] = aIm[src + e] }
                    } else {
                        for e in 0..<v {
                            let x = aRe[src + e], y = aIm[src + e]
                            dRe[e] = x * c - y * s
                            dIm[e] = x * s + y * c
                        }
                    }
                }
                switch radix {
                case 2:
                    let o0 = outRow * v, o1 = (outRow + span) * v
                    for e in 0..<v {
                        let ar = tRe[e], ai = tIm[e], br = tRe[v + e], bi = tIm[v + e]
                        bRe[o0 + e] = ar + br; bIm[o0 + e] = ai + bi
                        bRe[o1 + e] = ar - br; bIm[o1 + e] = ai - bi
                    }
                case 4:
                    // y1 = u1 + d*i*u3, y3 = u1 - d*i*u3 with d = -1 forward, +1 inverse.
                    let d = -sign
                    let o0 = outRow * v, o1 = (outRow + span) * v, o2 = (outRow + 2 * span) * v, o3 = (outRow + 3 * span) * v
                    for e in 0..<v {
                        let t0r = tRe[e], t0i = tIm[e], t1r = tRe[v + e], t1i = tIm[v + e]
                        let t2r = tRe[2 * v + e], t2i = tIm[2 * v + e], t3r = tRe[3 * v + e], t3i = tIm[3 * v + e]
                        let u0r = t0r + t2r, u0i = t0i + t2i, u1r = t0r - t2r, u1i = t0i - t2i
                        let u2r = t1r + t3r, u2i = t1i + t3i, u3r = t1r - t3r, u3i = t1i - t3i
                        bRe[o0 + e] = u0r + u2r; bIm[o0 + e] = u0i + u2i
                        bRe[o2 + e] = u0r - u2r; bIm[o2 + e] = u0i - u2i
                        bRe[o1 + e] = u1r - d * u3i; bIm[o1 + e] = u1i + d * u3r
                        bRe[o3 + e] = u1r + d * u3i; bIm[o3 + e] = u1i - d * u3r
                    }
                default:
                    // Odd radix: pair r with radix - r (the cosines agree, the sines change sign), which
                    // halves the multiplications. With s_r = t_r + t_{R-r}, d_r = t_r - t_{R-r} and root
                    // W^m = c + i s: y_k = A + iB and y_{R-k} = A - iB, A = t0 + Σ c s_r, B = Σ s d_r.
                    let half = (radix - 1) / 2
                    for r in 1...half {
                        let pr = tRe + r * v, pi = tIm + r * v, qr = tRe + (radix - r) * v, qi = tIm + (radix - r) * v
                        for e in 0..<v {
                            let ar = pr[e], ai = pi[e], br = qr[e], bi = qi[e]
                            pr[e] = ar + br; pi[e] = ai + bi
                            qr[e] = ar - br; qi[e] = ai - bi
                        }
                    }
                    let o0 = outRow * v
                    for e in 0..<v { bRe[o0 + e] = tRe[e]; bIm[o0 + e] = tIm[e] }
                    for r in 1...half {
                        for e in 0..<v { bRe[o0 + e] += tRe[r * v + e]; bIm[o0 + e] += tIm[r * v + e] }
                    }
                    for k in 1...half {
                        // A accumulates in output row k, B in output row R-k.
                        let aRow = (outRow + k * span) * v, bRow = (outRow + (radix - k) * span) * v
                        for e in 0..<v { bRe[aRow + e] = tRe[e]; bIm[aRow + e] = tIm[e]; bRe[bRow + e] = 0; bIm[bRow + e] = 0 }
                        for r in 1...half {
                            let m = (k * r) % radix
                            let c = stage.rootCos[m], s = sign * stage.rootSin[m]
                            let sr = tRe + r * v, si = tIm + r * v, dr = tRe + (radix - r) * v, di = tIm + (radix - r) * v
                            for e in 0..<v {
                                bRe[aRow + e] += c * sr[e]; bIm[aRow + e] += c * si[e]
                                bRe[bRow + e] += s * dr[e]; bIm[bRow + e] += s * di[e]
                            }
                        }
                        for e in 0..<v {
                            let ar = bRe[aRow + e], ai = bIm[aRow + e], br = bRe[bRow + e], bi = bIm[bRow + e]
                            bRe[aRow + e] = ar - bi; bIm[aRow + e] = ai + br
                            bRe[bRow + e] = ar + bi; bIm[bRow + e] = ai - br
                        }
                    }
                }
            }
            swap(&aRe, &bRe)
            swap(&aIm, &bIm)
        }
        if aRe != re {
            re.update(from: aRe, count: n * v)
            im.update(from: aIm, count: n * v)
        }
    }
}

/// Spectral planes of shape (planes, height, width/2+1) kept as split real and imaginary parts.
private struct HalfSpectrum {
    var re: [Float]
    var im: [Float]
}

/// One plane's buffers for the 2-D transforms: real and imaginary parts and their scratch, in one allocation.
private struct PlaneWorkspace {
    let re, im, scratchRe, scratchIm: UnsafeMutablePointer<Float>

    init(size: Int) {
        re = UnsafeMutablePointer<Float>.allocate(capacity: 4 * size)
        (im, scratchRe, scratchIm) = (re + size, re + 2 * size, re + 3 * size)
    }

    func deallocate() { re.deallocate() }

    /// Runs `body(plane, workspace)` for planes 0 ..< planes in parallel, each with a workspace sized for an h x w
    /// plane's paired rows and for its half spectrum.
    static func forEachPlane(_ planes: Int, h: Int, w: Int, _ body: (Int, PlaneWorkspace) -> Void) {
        let size = max(w * ((h + 1) / 2), h * (w / 2 + 1), 1)
        Parallel.forEach(planes) { p in
            let workspace = PlaneWorkspace(size: size)
            defer { workspace.deallocate() }
            body(p, workspace)
        }
    }
}

/// The 2-D FFT kernels on (planes, h, w) real data and (planes, h, wf) half spectra, wf = w/2 + 1, unscaled.
enum FFT2 {
    /// Unscaled real-to-half-spectrum 2-D DFT. `x` is (planes, h, w); `out` is interleaved (planes, h, wf, 2).
    static func forward(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, out: UnsafeMutablePointer<Float>) {
        let wf = w / 2 + 1
        let rowPlan = FFTPlan(w), colPlan = FFTPlan(h)
        let pairs = (h + 1) / 2
        PlaneWorkspace.forEachPlane(planes, h: h, w: w) { p, workspace in
            let (re, im, sRe, sIm) = (workspace.re, workspace.im, workspace.scratchRe, workspace.scratchIm)
            let src = x + p * h * w
            // Along the width, two image rows per complex sequence (row 2m real, row 2m+1 imaginary),
            // transposed to (w, pairs) so the transform runs down rows.
            for m in 0..<pairs {
                let even = src + 2 * m * w
                for j in 0..<w { re[j * pairs + m] = even[j] }
                if 2 * m + 1 < h {
                    let odd = even + w
                    for j in 0..<w { im[j * pairs + m] = odd[j] }
                } else {
                    for j in 0..<w { im[j * pairs + m] = 0 }
                }
            }
            rowPlan.transform(re: re, im: im, v: pairs, inverse: false, scratchRe: sRe, scratchIm: sIm)
            // Separate the two real rows' spectra (Z_k ± conj Z_{-k}) into (h, wf).
            for k in 0..<wf {
                let zk = k * pairs, zn = ((w - k) % w) * pairs
                for m in 0..<pairs {
                    let ar = re[zk + m], ai = im[zk + m], br = re[zn + m], bi = im[zn + m]
                    sRe[2 * m * wf + k] = 0.5 * (ar + br)
                    sIm[2 * m * wf + k] = 0.5 * (ai - bi)
                    if 2 * m + 1 < h {
                        sRe[(2 * m + 1) * wf + k] = 0.5 * (ai + bi)
                        sIm[(2 * m + 1) * wf + k] = -0.5 * (ar - br)
                    }
                }
            }
            re.update(from: sRe, count: h * wf)
            im.update(from: sIm, count: h * wf)
            colPlan.transform(re: re, im: im, v: wf, inverse: false, scratchRe: sRe, scratchIm: sIm)
            let dst = out + p * h * wf * 2
            for i in 0..<(h * wf) { dst[2 * i] = re[i]; dst[2 * i + 1] = im[i] }
        }
    }

    /// Unscaled half-spectrum-to-real 2-D inverse DFT (the Hermitian completion of the half spectrum).
    ///
    /// `spectrum` is interleaved (planes, h, wf, 2); `out` is (planes, h, w). As in pocketfft's c2r, the
    /// imaginary parts of width bins 0 and w/2 (even w) do not affect the result.
    static func inverse(_ spectrum: UnsafePointer<Float>, planes: Int, h: Int, w: Int, out: UnsafeMutablePointer<Float>) {
        let wf = w / 2 + 1
        let rowPlan = FFTPlan(w), colPlan = FFTPlan(h)
        let pairs = (h + 1) / 2
        PlaneWorkspace.forEachPlane(planes, h: h, w: w) { p, workspace in
            let (re, im, sRe, sIm) = (workspace.re, workspace.im, workspace.scratchRe, workspace.scratchIm)
            let src = spectrum + p * h * wf * 2
            for i in 0..<(h * wf) { re[i] = src[2 * i]; im[i] = src[2 * i + 1] }
            colPlan.transform(re: re, im: im, v: wf, inverse: true, scratchRe: sRe, scratchIm: sIm)
            // Width bins 0 and w/2 must be real for a real result (c2r ignores their imaginary parts).
            for i in 0..<h {
                im[i * wf] = 0
                if w % 2 == 0 { im[i * wf + w / 2] = 0 }
            }
            // Pack rows 2m and 2m+1 as A + iB, completing each Hermitian half: bin w-k = conj(A_k) + i conj(B_k).
            for m in 0..<pairs {
                let a = 2 * m * wf, b = (2 * m + 1) * wf, hasB = 2 * m + 1 < h
                for k in 0..<wf {
                    let ar = re[a + k], ai = im[a + k]
                    let br: Float = hasB ? re[b + k] : 0, bi: Float = hasB ? im[b + k] : 0
                    sRe[k * pairs + m] = ar - bi
                    sIm[k * pairs + m] = ai + br
                    if k >= 1 && k <= w - wf {
                        sRe[(w - k) * pairs + m] = ar + bi
                        sIm[(w - k) * pairs + m] = br - ai
                    }
                }
            }
            rowPlan.transform(re: sRe, im: sIm, v: pairs, inverse: true, scratchRe: re, scratchIm: im)
            let dst = out + p * h * w
            for m in 0..<pairs {
                let even = dst + 2 * m * w
                for j in 0..<w { even[j] = sRe[j * pairs + m] }
                if 2 * m + 1 < h {
                    let odd = even + w
                    for j in 0..<w { odd[j] = sIm[j * pairs + m] }
                }
            }
        }
    }

    /// Multiplies the width bins that the Hermitian completion duplicates (1...w-wf) by `factor`, in place.
    static func scaleDuplicatedBins(_ spectrum: inout [Float], planes: Int, h: Int, w: Int, factor: Float) {
        let wf = w / 2 + 1
        guard w - wf >= 1 else { return }
        for row in 0..<(planes * h) {
            let base = row * wf * 2
            for k in 1...(w - wf) {
                spectrum[base + 2 * k] *= factor
                spectrum[base + 2 * k + 1] *= factor
            }
        }
    }
}

/// The 2-D real FFT of the last two axes: (..., H, W) -> (..., H, W/2+1, 2), like
/// `torch.view_as_real(torch.fft.rfft2(x))` (unscaled, "backward" normalisation).
public func rfft2(_ x: Tensor) -> Tensor {
    precondition(x.rank >= 2, "rfft2: input must have at least 2 axes (..., H, W), got shape \(x.shape)")
    let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
    precondition(h >= 1 && w >= 1, "rfft2: H and W must be at least 1, got shape \(x.shape)")
    let planes = x.shape.dropLast(2).reduce(1, *)
    let wf = w / 2 + 1
    let outShape = Array(x.shape.dropLast()) + [wf, 2]
    var out = [Float](repeating: 0, count: planes * h * wf * 2)
    x.storage.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            FFT2.forward(src.baseAddress!, planes: planes, h: h, w: w, out: dst.baseAddress!)
        }
    }
    let inShape = x.shape
    return Tensor.result(op: "rfft2", shape: outShape, storage: out, inputs: [x]) { g in
        // d/dx of Re/Im of the half spectrum: the real part of the unscaled inverse DFT of g zero-padded to
        // the full width. That equals the Hermitian c2r of g with its duplicated bins halved (torch's rule).
        var half = g.storage
        FFT2.scaleDuplicatedBins(&half, planes: planes, h: h, w: w, factor: 0.5)
        var gx = [Float](repeating: 0, count: planes * h * w)
        half.withUnsafeBufferPointer { src in
            gx.withUnsafeMutableBufferPointer { dst in
                FFT2.inverse(src.baseAddress!, planes: planes, h: h, w: w, out: dst.baseAddress!)
            }
        }
        return [Tensor(shape: inShape, storage: gx)]
    }
}

/// The inverse of `rfft2`: (..., H, W/2+1, 2) -> (..., H, W), dividing by H*W like `torch.fft.irfft2(x, s=(H, W))`.
///
/// Its gradient matches torch.autograd: the rfft2 of the upstream gradient divided by H*W, with the width
/// bins that the Hermitian completion duplicates doubled.
public func irfft2(_ x: Tensor, height: Int, width: Int) -> Tensor {
    precondition(x.rank >= 3 && x.shape.last == 2,
                 "irfft2: input must be a half spectrum (..., H, W/2+1, 2), got shape \(x.shape)")
    precondition(height >= 1 && width >= 1, "irfft2: height and width must be at least 1, got \(height)x\(width)")
    let h = x.shape[x.rank - 3], wf = x.shape[x.rank - 2]
    precondition(h == height && wf == width / 2 + 1,
                 "irfft2: spectrum shape \(x.shape) does not fit output \(height)x\(width); expected (..., \(height), \(width / 2 + 1), 2)")
    let planes = x.shape.dropLast(3).reduce(1, *)
    let outShape = Array(x.shape.dropLast(2)) + [width]
    var out = [Float](repeating: 0, count: planes * h * width)
    x.storage.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            FFT2.inverse(src.baseAddress!, planes: planes, h: h, w: width, out: dst.baseAddress!)
        }
    }
    let scale = 1 / Float(h * width)
    for i in 0..<out.count { out[i] *= scale }
    let inShape = x.shape
    return Tensor.result(op: "irfft2", shape: outShape, storage: out, inputs: [x]) { g in
        var gx = [Float](repeating: 0, count: planes * h * wf * 2)
        g.storage.withUnsafeBufferPointer { src in
            gx.withUnsafeMutableBufferPointer { dst in
                FFT2.forward(src.baseAddress!, planes: planes, h: h, w: width, out: dst.baseAddress!)
            }
        }
        for i in 0..<gx.count { gx[i] *= scale }
        FFT2.scaleDuplicatedBins(&gx, planes: planes, h: h, w: width, factor: 2)
        return [Tensor(shape: inShape, storage: gx)]
    }
}
