// Bilinear resizing of the last two axes, as torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False, antialias=...).

/// The 1-D bilinear weights mapping `inCount` samples to `outCount`, PyTorch's align_corners=False rule.
///
/// Without antialiasing each output reads the two inputs around `scale * (i + 0.5) - 0.5` (clamped at 0),
/// scale = in / out. With antialiasing (PyTorch's `_upsample_bilinear2d_aa`) the triangle filter's support
/// is widened by the scale when downscaling, so every input contributes to some output.
func bilinearMatrix(outCount: Int, inCount: Int, antialias: Bool) -> ResampleMatrix {
    let scale = Float(inCount) / Float(outCount)
    if antialias {
        let support: Float = scale >= 1 ? scale : 1
        let invScale: Float = scale >= 1 ? 1 / scale : 1
        return ResampleMatrix(outCount: outCount, inCount: inCount) { i in
            let center = scale * (Float(i) + 0.5)
            // Truncation toward zero, then clamping, as in PyTorch's _compute_weights_aa.
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inCount)
            var taps: [(Int, Float)] = []
            var total: Float = 0
            for j in lo..<max(hi, lo) {
                let w = max(0, 1 - Swift.abs((Float(j) - center + 0.5) * invScale))
                taps.append((j, w))
                total += w
            }
            return total != 0 ? taps.map { ($0.0, $0.1 / total) } : taps
        }
    }
    return ResampleMatrix(outCount: outCount, inCount: inCount) { i in
        let src = max(scale * (Float(i) + 0.5) - 0.5, 0)
        let i0 = min(Int(src), inCount - 1)
        let i1 = min(i0 + 1, inCount - 1)
        let l1 = src - Float(i0)
        return [(i0, 1 - l1), (i1, l1)]
    }
}

/// Resizes the last two axes (NCHW images) to `height` x `width` by bilinear interpolation, like
/// `F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=antialias)`.
///
/// `antialias` only changes downscaling: the triangle filter then spans the scale factor, as in PyTorch.
public func resizeBilinear(_ x: Tensor, height: Int, width: Int, antialias: Bool = false) -> Tensor {
    precondition(x.rank >= 2, "resizeBilinear: input must have at least 2 axes (..., H, W), got shape \(x.shape)")
    let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
    precondition(h >= 1 && w >= 1, "resizeBilinear: input shape \(x.shape) has an empty spatial axis")
    precondition(height >= 1 && width >= 1,
                 "resizeBilinear: output size \(height)x\(width) must be at least 1x1 (input shape \(x.shape))")
    let rows = bilinearMatrix(outCount: height, inCount: h, antialias: antialias)
    let cols = bilinearMatrix(outCount: width, inCount: w, antialias: antialias)
    return Separable.op("resize_bilinear", x, rows: rows, cols: cols)
}
