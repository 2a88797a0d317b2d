// Padding of the last two axes (NCHW), as torch.nn.functional.pad(x, (left, right, top, bottom), mode).

/// How `pad` fills the new border.
public enum PaddingMode: Sendable {
    /// A constant value (the `value` argument).
    case constant
    /// Mirror images without repeating the edge (needs each pad smaller than its axis).
    case reflect
}

/// Pads the last two axes: `top`/`bottom` rows and `left`/`right` columns, like
/// `F.pad(x, (left, right, top, bottom), mode=..., value=value)`.
public func pad(_ x: Tensor, top: Int, bottom: Int, left: Int, right: Int,
                mode: PaddingMode = .constant, value: Float = 0) -> Tensor {
    precondition(x.rank >= 2, "pad: input must have at least 2 axes (..., H, W), got shape \(x.shape)")
    precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0,
                 "pad: padding must be non-negative, got top \(top) bottom \(bottom) left \(left) right \(right)")
    let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
    if mode == .reflect {
        precondition(top < h && bottom < h && left < w && right < w,
                     "pad: reflect padding (top \(top), bottom \(bottom), left \(left), right \(right)) must be smaller than the padded axis of shape \(x.shape)")
    }
    func matrix(_ n: Int, before: Int, after: Int) -> ResampleMatrix {
        ResampleMatrix(outCount: n + before + after, inCount: n) { i in
            let j = i - before
            switch mode {
            case .reflect: return [(reflectIndex(j, n), Float(1))]
            case .constant: return j >= 0 && j < n ? [(j, Float(1))] : []
            }
        }
    }
    let oh = h + top + bottom, ow = w + left + right
    let fill: ((inout [Float], Int) -> Void)? = mode == .constant && value != 0 ? { out, planes in
        for p in 0..<planes {
            for i in 0..<oh {
                let inside = i >= top && i < top + h
                for j in 0..<ow where !inside || j < left || j >= left + w { out[(p * oh + i) * ow + j] = value }
            }
        }
    } : nil
    return Separable.op("pad", x, rows: matrix(h, before: top, after: bottom),
                        cols: matrix(w, before: left, after: right), fill: fill)
}
