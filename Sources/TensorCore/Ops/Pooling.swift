// Max, average and adaptive-average 2-D pooling with their derivatives. Every loop runs over whole
// (image, channel) planes, so a plane's gradient is written by one thread in one fixed order.

/// Output length of a pooling window sweep, as PyTorch's `pooling_output_shape`: in ceil mode the last window
/// must still start inside the input or the left padding. 0 when the window does not fit.
public func poolOutputSize(_ input: Int, kernel: Int, stride: Int, padding: Int, ceilMode: Bool) -> Int {
    let span = input + 2 * padding - kernel
    if span < 0 { return 0 }
    var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
    if ceilMode && (out - 1) * stride >= input + padding { out -= 1 }
    return out
}

/// The shared geometry of a pooling op over x (N, C, H, W).
private struct PoolGeometry {
    let planes: Int, inH: Int, inW: Int, outH: Int, outW: Int, kernel: Int, stride: Int, padding: Int

    init(op: String, _ x: Tensor, kernel: Int, stride: Int?, padding: Int, ceilMode: Bool) {
        precondition(x.rank == 4, "\(op): input must be (N, C, H, W), got shape \(x.shape)")
        let s = stride ?? kernel
        precondition(kernel >= 1 && s >= 1, "\(op): kernel (\(kernel)) and stride (\(s)) must be at least 1")
        precondition(padding >= 0 && padding * 2 <= kernel,
                     "\(op): padding \(padding) must be between 0 and half the kernel (\(kernel)), as in PyTorch")
        planes = x.shape[0] * x.shape[1]; inH = x.shape[2]; inW = x.shape[3]
        self.kernel = kernel; self.stride = s; self.padding = padding
        outH = poolOutputSize(inH, kernel: kernel, stride: s, padding: padding, ceilMode: ceilMode)
        outW = poolOutputSize(inW, kernel: kernel, stride: s, padding: padding, ceilMode: ceilMode)
        precondition(outH >= 1 && outW >= 1,
                     "\(op): input \(x.shape) is smaller than the \(kernel)x\(kernel) window with padding \(padding)")
    }
}

// MARK: - Max pooling

/// Max pooling over kernel x kernel windows (stride defaults to the kernel), padding with -infinity, as PyTorch.
/// Backward keeps one byte per output (the window position of the maximum), not the input.
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) -> Tensor {
    let g = PoolGeometry(op: "maxPool2d", x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    precondition(kernel <= 16, "maxPool2d: kernel \(kernel) is larger than the supported 16 (argmax is stored in a byte)")
    let outPlane = g.outH * g.outW, inPlane = g.inH * g.inW
    let keepArgmax = GradMode.isEnabled && Tensor.needsGrad(x)
    var argmax = [UInt8](repeating: 0, count: keepArgmax ? g.planes * outPlane : 0)
    let out = x.storage.withUnsafeBufferPointer { xs in
        argmax.withUnsafeMutableBufferPointer { am in
            let amp = keepArgmax ? am.baseAddress : nil  // an empty array still has a (shared) base address
            return makeUninitializedArray(g.planes * outPlane) { y in
                Parallel.forRanges(g.planes, grain: 1) { range in
                    for plane in range {
                        let src = xs.baseAddress! + plane * inPlane, dst = y + plane * outPlane
                        if g.stride == 2 && g.padding == 0 && (g.outH - 1) * 2 + g.kernel <= g.inH
                            && (g.outW - 1) * 2 + g.kernel <= g.inW {
                            // Stride 2, every window inside the input (VGG's 2/2, AlexNet's 3/2): 16 windows at once,
                            // each tap the even or odd lanes of a window row copied into a buffer of whole vectors.
                            maxPoolStride2(g, src, dst, argmax: amp.map { $0 + plane * outPlane })
                            continue
                        }
                        if g.padding == 0 && (g.outH - 1) * g.stride + g.kernel <= g.inH
                            && (g.outW - 1) * g.stride + g.kernel <= g.inW {
                            // Every window inside the input: no bounds checks.
                            for oy in 0..<g.outH {
                                for ox in 0..<g.outW {
                                    let w0 = src + oy * g.stride * g.inW + ox * g.stride
                                    var best = w0[0], bestIndex = 0
                                    for ky in 0..<g.kernel {
                                        let row = w0 + ky * g.inW
                                        for kx in 0..<g.kernel {
                                            let v = row[kx]
                                            if v > best || v.isNaN { best = v; bestIndex = ky * g.kernel + kx }
                                        }
                                    }
                                    dst[oy * g.outW + ox] = best
                                    if let amp { amp[plane * outPlane + oy * g.outW + ox] = UInt8(bestIndex) }
                                }
                            }
                            continue
                        }
                        for oy in 0..<g.outH {
                            let y0 = oy * g.stride - g.padding
                            for ox in 0..<g.outW {
                                let x0 = ox * g.stride - g.padding
                                var best = -Float.infinity, bestIndex = 0
                                for ky in 0..<g.kernel {
                                    let iy = y0 + ky
                                    if iy < 0 || iy >= g.inH { continue }
                                    for kx in 0..<g.kernel {
                                        let ix = x0 + kx
                                        if ix < 0 || ix >= g.inW { continue }
                                        let v = src[iy * g.inW + ix]
                                        if v > best || v.isNaN { best = v; bestIndex = ky * g.kernel + kx }
                                    }
                                }
                                dst[oy * g.outW + ox] = best
                                if let amp { amp[plane * outPlane + oy * g.outW + ox] = UInt8(bestIndex) }
                            }
                        }
                    }
                }
            }
        }
    }
    let outShape = [x.shape[0], x.shape[1], g.outH, g.outW], inShape = x.shape
    return Tensor.result(op: "maxPool2d", shape: outShape, storage: out, inputs: [x]) { gradOut in
        var dx = [Float](repeating: 0, count: g.planes * inPlane)
        dx.withUnsafeMutableBufferPointer { dxs in
            gradOut.storage.withUnsafeBufferPointer { gs in
                argmax.withUnsafeBufferPointer { am in
                    Parallel.forRanges(g.planes, grain: 1) { range in
                        for plane in range {
                            let d = dxs.baseAddress! + plane * inPlane
                            for oy in 0..<g.outH {
                                for ox in 0..<g.outW {
                                    let o = plane * outPlane + oy * g.outW + ox
                                    let w = Int(am[o])
                                    let (ky, kx) = g.kernel == 2 ? (w >> 1, w & 1) : (w / g.kernel, w % g.kernel)
                                    let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                                    d[iy * g.inW + ix] += gs[o]
                                }
                            }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: inShape, storage: dx)]
    }
}

// MARK: - Average pooling

/// Average pooling as PyTorch's avg_pool2d (windows clipped to input + padding; the divisor counts padding
/// unless `countIncludePad` is false).
public func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false,
                      countIncludePad: Bool = true) -> Tensor {
    let g = PoolGeometry(op: "avgPool2d", x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    // Window bounds per output row/column, clipped to the input, and the divisor.
    func windows(_ outLen: Int, _ inLen: Int) -> [(lo: Int, hi: Int, padded: Int)] {
        (0..<outLen).map { o in
            let start = o * g.stride - g.padding
            let end = min(start + g.kernel, inLen + g.padding)
            return (max(start, 0), min(end, inLen), end - start)
        }
    }
    let rows = windows(g.outH, g.inH), cols = windows(g.outW, g.inW)
    func divisor(_ r: (lo: Int, hi: Int, padded: Int), _ c: (lo: Int, hi: Int, padded: Int)) -> Float {
        Float(countIncludePad ? r.padded * c.padded : (r.hi - r.lo) * (c.hi - c.lo))
    }
    return windowAverage(op: "avgPool2d", x, outH: g.outH, outW: g.outW, rows: rows.map { ($0.lo, $0.hi) },
                         cols: cols.map { ($0.lo, $0.hi) }) { oy, ox in divisor(rows[oy], cols[ox]) }
}

/// Adaptive average pooling to `outputSize` (h, w): window i spans [floor(i*H/h), ceil((i+1)*H/h)), as PyTorch.
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    precondition(x.rank == 4, "adaptiveAvgPool2d: input must be (N, C, H, W), got shape \(x.shape)")
    let (oh, ow) = outputSize
    precondition(oh >= 1 && ow >= 1, "adaptiveAvgPool2d: output size (\(oh), \(ow)) must be at least 1x1")
    precondition(x.shape[2] >= 1 && x.shape[3] >= 1, "adaptiveAvgPool2d: input \(x.shape) has an empty plane")
    func windows(_ outLen: Int, _ inLen: Int) -> [(Int, Int)] {
        (0..<outLen).map { i in (i * inLen / outLen, ((i + 1) * inLen + outLen - 1) / outLen) }
    }
    let rows = windows(oh, x.shape[2]), cols = windows(ow, x.shape[3])
    return windowAverage(op: "adaptiveAvgPool2d", x, outH: oh, outW: ow, rows: rows, cols: cols) { oy, ox in
        Float((rows[oy].1 - rows[oy].0) * (cols[ox].1 - cols[ox].0))
    }
}

/// Averages x over the window rows[oy] x cols[ox] (clipped input bounds) divided by divisor(oy, ox).
private func windowAverage(op: String, _ x: Tensor, outH: Int, outW: Int, rows: [(Int, Int)], cols: [(Int, Int)],
                           divisor: (Int, Int) -> Float) -> Tensor {
    let planes = x.shape[0] * x.shape[1], inH = x.shape[2], inW = x.shape[3]
    let inPlane = inH * inW, outPlane = outH * outW
    var divisors = [Float](repeating: 0, count: outPlane)
    for oy in 0..<outH { for ox in 0..<outW { divisors[oy * outW + ox] = divisor(oy, ox) } }
    let out = x.storage.withUnsafeBufferPointer { xs in
        makeUninitializedArray(planes * outPlane) { y in
            Parallel.forRanges(planes, grain: 1) { range in
                for plane in range {
                    let src = xs.baseAddress! + plane * inPlane
                    for oy in 0..<outH {
                        for ox in 0..<outW {
                            var s: Float = 0
                            for iy in rows[oy].0..<rows[oy].1 {
                                for ix in cols[ox].0..<cols[ox].1 { s += src[iy * inW + ix] }
                            }
                            y[plane * outPlane + oy * outW + ox] = s / divisors[oy * outW + ox]
                        }
                    }
                }
            }
        }
    }
    let inShape = x.shape
    return Tensor.result(op: op, shape: [x.shape[0], x.shape[1], outH, outW], storage: out, inputs: [x]) { gradOut in
        var dx = [Float](repeating: 0, count: planes * inPlane)
        dx.withUnsafeMutableBufferPointer { dxs in
            gradOut.storage.withUnsafeBufferPointer { gs in
                Parallel.forRanges(planes, grain: 1) { range in
                    for plane in range {
                        let d = dxs.baseAddress! + plane * inPlane
                        for oy in 0..<outH {
                            for ox in 0..<outW {
                                let v = gs[plane * outPlane + oy * outW + ox] / divisors[oy * outW + ox]
                                for iy in rows[oy].0..<rows[oy].1 {
                                    for ix in cols[ox].0..<cols[ox].1 { d[iy * inW + ix] += v }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: inShape, storage: dx)]
    }
}

/// Max pooling with stride 2 and every window inside the input, for one plane: the first maximum of each window in
/// (ky, kx) order, NaN winning, as the scalar loops. Lanes past the row end compute on whatever the buffer holds and
/// are not stored.
private func maxPoolStride2(_ g: PoolGeometry, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                            argmax: UnsafeMutablePointer<UInt8>?) {
    let k = g.kernel, rowLength = GEMM.roundUp(2 * g.outW + k + 32, 16)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: k * rowLength + 16) { buffer in
        let rows = buffer.baseAddress!
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { tail in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { tailIndex in
                for oy in 0..<g.outH {
                    for ky in 0..<k { copyFloats(src + (2 * oy + ky) * g.inW, rows + ky * rowLength, g.inW) }
                    var ox0 = 0
                    while ox0 < g.outW {
                        var best = SIMD16<Float>(), index = SIMD16<Int32>()
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let (even, odd) = loadDeinterleaved(rows + ky * rowLength + 2 * ox0 + (kx & ~1))
                                let v = kx & 1 == 0 ? even : odd
                                if ky == 0 && kx == 0 { best = v; continue }
                                let take = (v .> best) .| (v .!= v)
                                best.replace(with: v, where: take)
                                index.replace(with: Int32(ky * k + kx), where: take)
                            }
                        }
                        let count = min(16, g.outW - ox0), at = oy * g.outW + ox0
                        let bytes = SIMD16<UInt8>(truncatingIfNeeded: index)
                        if count == 16 {
                            store16(best, dst + at)
                            if let argmax { UnsafeMutableRawPointer(argmax + at).storeBytes(of: bytes, as: SIMD16<UInt8>.self) }
                        } else {
                            store16(best, tail.baseAddress!)
                            copyFloats(tail.baseAddress!, dst + at, count)
                            if let argmax {
                                UnsafeMutableRawPointer(tailIndex.baseAddress!).storeBytes(of: bytes, as: SIMD16<UInt8>.self)
                                for i in 0..<count { argmax[at + i] = tailIndex[i] }
                            }
                        }
                        ox0 += 16
                    }
                }
            }
        }
    }
}
