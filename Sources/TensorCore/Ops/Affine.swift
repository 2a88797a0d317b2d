import Foundation

// Affine resampling of NCHW images: torch F.affine_grid(theta, size, align_corners=False) followed by
// F.grid_sample(x, grid, mode="bilinear", padding_mode=..., align_corners=False).

/// What `affineResample` reads outside the input image.
public enum ResamplePadding: Sendable {
    /// Zeros (grid_sample padding_mode="zeros").
    case zeros
    /// The nearest edge pixel (padding_mode="border").
    case border
}

/// Bilinear sampling positions for one image: four taps per output pixel (flat input index and weight).
private struct SampleTaps {
    var index: [Int32]   // (oh*ow*4)
    var weight: [Float]  // (oh*ow*4)
}

/// The taps of output (oh, ow) sampled through `theta` (row-major 2x3, normalised coordinates) from (h, w).
private func sampleTaps(theta t: [Float], h: Int, w: Int, oh: Int, ow: Int, padding: ResamplePadding) -> SampleTaps {
    var index = [Int32](repeating: 0, count: oh * ow * 4)
    var weight = [Float](repeating: 0, count: oh * ow * 4)
    index.withUnsafeMutableBufferPointer { index in
        weight.withUnsafeMutableBufferPointer { weight in
            /// Records corner `k` of output `o` unless it lies outside the image (weight stays 0: zeros padding).
            @inline(__always) func corner(_ o: Int, _ k: Int, _ y: Int, _ x: Int, _ wgt: Float) {
                if y >= 0 && y < h && x >= 0 && x < w {
                    index[o * 4 + k] = Int32(y * w + x)
                    weight[o * 4 + k] = wgt
                }
            }
            // affine_grid's base grid with align_corners=False: pixel centres at (2k+1)/n - 1.
            let xs = (0..<ow).map { (2 * Float($0) + 1) / Float(ow) - 1 }
            let (t0, t1, t2, t3, t4, t5) = (t[0], t[1], t[2], t[3], t[4], t[5])
            for i in 0..<oh {
                let y = (2 * Float(i) + 1) / Float(oh) - 1
                for j in 0..<ow {
                    let x = xs[j]
                    let gx = t0 * x + t1 * y + t2
                    let gy = t3 * x + t4 * y + t5
                    // grid_sample's unnormalisation (align_corners=False), then border clipping if asked.
                    var ix = ((gx + 1) * Float(w) - 1) / 2
                    var iy = ((gy + 1) * Float(h) - 1) / 2
                    if padding == .border {
                        ix = min(max(ix, 0), Float(w - 1))
                        iy = min(max(iy, 0), Float(h - 1))
                    }
                    let x0f = ix.rounded(.down), y0f = iy.rounded(.down)
                    // Far outside (or NaN): every corner is outside, all weights stay 0.
                    guard Swift.abs(x0f) < 1e8, Swift.abs(y0f) < 1e8 else { continue }
                    let fx = ix - x0f, fy = iy - y0f
                    let x0 = Int(x0f), y0 = Int(y0f), o = i * ow + j
                    corner(o, 0, y0, x0, (1 - fx) * (1 - fy))
                    corner(o, 1, y0, x0 + 1, fx * (1 - fy))
                    corner(o, 2, y0 + 1, x0, (1 - fx) * fy)
                    corner(o, 3, y0 + 1, x0 + 1, fx * fy)
                }
            }
        }
    }
    return SampleTaps(index: index, weight: weight)
}

/// Resamples each NCHW image through its own affine map, like `F.grid_sample(x, F.affine_grid(theta,
/// (N, C, outH, outW), align_corners=False), mode="bilinear", padding_mode=..., align_corners=False)`.
///
/// - Parameters:
///   - matrices: one row-major 2x3 theta per image (6 values), mapping output to input in normalised [-1, 1]
///     coordinates. No gradient flows to theta.
///   - outputSize: (height, width) of the result; nil keeps the input size.
public func affineResample(_ x: Tensor, matrices: [[Float]], outputSize: (height: Int, width: Int)? = nil,
                           padding: ResamplePadding = .zeros) -> Tensor {
    precondition(x.rank == 4, "affineResample: input must be NCHW, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(matrices.count == n && matrices.allSatisfy { $0.count == 6 },
                 "affineResample: need \(n) matrices of 6 values (2x3 theta) for input shape \(x.shape), got \(matrices.map(\.count))")
    let oh = outputSize?.height ?? h, ow = outputSize?.width ?? w
    precondition(oh >= 1 && ow >= 1, "affineResample: output size \(oh)x\(ow) must be at least 1x1")
    let taps = matrices.map { sampleTaps(theta: $0, h: h, w: w, oh: oh, ow: ow, padding: padding) }
    var out = [Float](repeating: 0, count: n * c * oh * ow)
    x.storage.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            let src = src.baseAddress!, dst = dst.baseAddress!
            Parallel.forEach(n * c) { plane in
                let t = taps[plane / c]
                let s = src + plane * h * w, d = dst + plane * oh * ow
                for o in 0..<(oh * ow) {
                    let b = o * 4
                    d[o] = t.weight[b] * s[Int(t.index[b])] + t.weight[b + 1] * s[Int(t.index[b + 1])]
                        + t.weight[b + 2] * s[Int(t.index[b + 2])] + t.weight[b + 3] * s[Int(t.index[b + 3])]
                }
            }
        }
    }
    let inShape = x.shape
    return Tensor.result(op: "affine_resample", shape: [n, c, oh, ow], storage: out, inputs: [x]) { g in
        // Scatter-add into each input plane; one plane per chunk keeps the order fixed (deterministic).
        var gx = [Float](repeating: 0, count: n * c * h * w)
        g.storage.withUnsafeBufferPointer { src in
            gx.withUnsafeMutableBufferPointer { dst in
                let src = src.baseAddress!, dst = dst.baseAddress!
                Parallel.forEach(n * c) { plane in
                    let t = taps[plane / c]
                    let s = src + plane * oh * ow, d = dst + plane * h * w
                    for o in 0..<(oh * ow) {
                        let go = s[o], b = o * 4
                        for k in 0..<4 { d[Int(t.index[b + k])] += t.weight[b + k] * go }
                    }
                }
            }
        }
        return [Tensor(shape: inShape, storage: gx)]
    }
}

/// `affineResample` with theta given as a (N, 2, 3) tensor (its values only; no gradient flows to it).
public func affineResample(_ x: Tensor, theta: Tensor, outputSize: (height: Int, width: Int)? = nil,
                           padding: ResamplePadding = .zeros) -> Tensor {
    precondition(theta.shape == [x.shape.first ?? 0, 2, 3],
                 "affineResample: theta must be (N, 2, 3) = [\(x.shape.first ?? 0), 2, 3] for input shape \(x.shape), got \(theta.shape)")
    let matrices = (0..<theta.shape[0]).map { Array(theta.storage[($0 * 6)..<($0 * 6 + 6)]) }
    return affineResample(x, matrices: matrices, outputSize: outputSize, padding: padding)
}

/// The theta (2x3, row-major, for `affineResample`) that rotates the content by `degrees` (counter-clockwise
/// on screen, as torchvision's `rotate`), scales it by `scale` (> 1 enlarges) and then shifts it by
/// `translation` pixels (x right, y down), all about the image centre.
///
/// Works in pixel units so rotations stay rigid on non-square images: in = R(-θ)(out - t) / s, mapped
/// between the output's and the input's normalised coordinates.
public func affineTheta(degrees: Float = 0, scale: Float = 1, translation: (x: Float, y: Float) = (0, 0),
                        inputSize: (height: Int, width: Int), outputSize: (height: Int, width: Int)? = nil) -> [Float] {
    precondition(scale > 0, "affineTheta: scale must be positive, got \(scale)")
    let out = outputSize ?? inputSize
    let a = Double(degrees) * Double.pi / 180
    let c = Foundation.cos(a) / Double(scale), s = Foundation.sin(a) / Double(scale)
    // Inverse map in pixel units (y down): [[c, -s], [s, c]] (out - t).
    let m = [[c, -s], [s, c]]
    let inHalf = [Double(inputSize.width) / 2, Double(inputSize.height) / 2]
    let outHalf = [Double(out.width) / 2, Double(out.height) / 2]
    let t = [Double(translation.x), Double(translation.y)]
    var theta = [Float](repeating: 0, count: 6)
    for r in 0..<2 {
        // Normalised: in_n[r] = (1/inHalf[r]) Σ_k m[r][k] (outHalf[k] out_n[k] - t[k]).
        theta[r * 3 + 0] = Float(m[r][0] * outHalf[0] / inHalf[r])
        theta[r * 3 + 1] = Float(m[r][1] * outHalf[1] / inHalf[r])
        theta[r * 3 + 2] = Float(-(m[r][0] * t[0] + m[r][1] * t[1]) / inHalf[r])
    }
    return theta
}
