import Foundation
import TensorCore

/// Resampling filters, as Pillow defines them (`PIL.Image.Resampling`), each with its support radius.
public enum ResamplingFilter: String, Sendable, CaseIterable {
    case box, bilinear, bicubic, lanczos

    /// The filter's half-width in input pixels at scale 1 (Pillow's `filter.support`).
    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The filter's weight at distance `x` (Pillow's `box_filter`, `bilinear_filter`, `bicubic_filter` with
    /// a = -0.5, `lanczos_filter`).
    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let t = abs(x)
            return t < 1 ? 1 - t : 0
        case .bicubic:
            let a = -0.5, t = abs(x)
            if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        case .lanczos:
            func sinc(_ v: Double) -> Double { v == 0 ? 1 : sin(v * Double.pi) / (v * Double.pi) }
            return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0
        }
    }
}

/// One output sample's taps: the first input index and the fixed-point weights (Pillow's 22 fraction bits).
struct ResampleTaps {
    static let precisionBits = 22  // Pillow: 32 - 8 bits per sample - 2 bits of headroom
    var first: [Int] = []
    var weights: [[Int32]] = []

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`: when shrinking, the filter is stretched by the
    /// scale factor (antialiasing), each output's weights are normalised to sum to 1, then rounded to fixed point.
    init(inputSize: Int, outputSize: Int, filter: ResamplingFilter) {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        for xx in 0..<outputSize {
            let center = (Double(xx) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, as C's (int)
            let xmax = min(Int(center + support + 0.5), inputSize) - xmin
            var k = [Double](repeating: 0, count: max(xmax, 0))
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) / filterScale)
                k[x] = w
                total += w
            }
            let one = Double(1 << Self.precisionBits)
            weights.append(k.map { w in
                let normalised = total != 0 ? w / total : w
                return Int32(normalised < 0 ? -0.5 + normalised * one : 0.5 + normalised * one)
            })
            first.append(xmin)
        }
    }

    /// Pillow's `clip8`: fixed-point sum (with its rounding half already added) to a byte.
    @inline(__always) static func clip8(_ sum: Int) -> UInt8 {
        let shifted = sum >> precisionBits
        return UInt8(clamping: shifted)
    }
}

extension Image {
    /// Resizes to `width` x `height` as Pillow's `Image.resize(size, filter)` does (default bilinear).
    ///
    /// Separable, horizontal pass first, 8-bit intermediate; shrinking stretches the filter by the scale factor
    /// (antialiasing). Fixed-point arithmetic as Pillow's, so results match it exactly (the tests compare against
    /// Pillow 13 with tolerance 0 for gray, RGB and RGBA). RGBA is premultiplied by alpha around the resize, as Pillow does.
    public func resized(width outWidth: Int, height outHeight: Int, filter: ResamplingFilter = .bilinear) -> Image {
        precondition(outWidth > 0 && outHeight > 0, "resized: target size \(outWidth) x \(outHeight) must be positive")
        if outWidth == width && outHeight == height { return self }
        var current = channels == 4 ? premultiplied() : self
        if outWidth != width {
            current = current.resampledHorizontally(to: outWidth, taps: ResampleTaps(inputSize: width, outputSize: outWidth, filter: filter))
        }
        if outHeight != height {
            current = current.resampledVertically(to: outHeight, taps: ResampleTaps(inputSize: height, outputSize: outHeight, filter: filter))
        }
        return channels == 4 ? current.unpremultiplied() : current
    }

    /// Resizes so that the shorter side becomes `size`, keeping the aspect ratio as torchvision's
    /// `Resize(size)` does: the longer side is `Int(size * long / short)` (truncated), then a bilinear
    /// antialiased resize (torchvision's PIL path).
    public func resizeShorterSide(to size: Int, filter: ResamplingFilter = .bilinear) -> Image {
        precondition(size > 0, "resizeShorterSide: size \(size) must be positive")
        let short = min(width, height), long = max(width, height)
        let newLong = Int(Double(size) * Double(long) / Double(short))
        let (w, h) = width <= height ? (size, newLong) : (newLong, size)
        return resized(width: w, height: h, filter: filter)
    }

    private func resampledHorizontally(to outWidth: Int, taps: ResampleTaps) -> Image {
        let c = channels, inWidth = width
        var out = [UInt8](repeating: 0, count: outWidth * height * c)
        let half = 1 << (ResampleTaps.precisionBits - 1)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let dst = dst  // rows are disjoint per range: split by output
                Parallel.forRanges(height, grain: 16) { rows in
                    for y in rows {
                        let inRow = y * inWidth * c, outRow = y * outWidth * c
                        for xx in 0..<outWidth {
                            let first = taps.first[xx], k = taps.weights[xx]
                            for ch in 0..<c {
                                var sum = half
                                for (t, w) in k.enumerated() { sum += Int(src[inRow + (first + t) * c + ch]) * Int(w) }
                                dst[outRow + xx * c + ch] = ResampleTaps.clip8(sum)
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: height, channels: c, pixels: out)
    }

    private func resampledVertically(to outHeight: Int, taps: ResampleTaps) -> Image {
        let rowLength = width * channels
        var out = [UInt8](repeating: 0, count: outHeight * rowLength)
        let half = 1 << (ResampleTaps.precisionBits - 1)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let dst = dst
                Parallel.forRanges(outHeight, grain: 4) { rows in
                    var sums = [Int](repeating: 0, count: rowLength)
                    for yy in rows {
                        let first = taps.first[yy], k = taps.weights[yy]
                        for i in 0..<rowLength { sums[i] = half }
                        for (t, w) in k.enumerated() {
                            let inRow = (first + t) * rowLength, weight = Int(w)
                            for i in 0..<rowLength { sums[i] += Int(src[inRow + i]) * weight }
                        }
                        for i in 0..<rowLength { dst[yy * rowLength + i] = ResampleTaps.clip8(sums[i]) }
                    }
                }
            }
        }
        return Image(width: width, height: outHeight, channels: channels, pixels: out)
    }

    /// Pillow's RGBA -> "RGBa": colour times alpha / 255, rounded as its MULDIV255.
    func premultiplied() -> Image {
        var out = pixels
        for i in stride(from: 0, to: out.count, by: 4) {
            let a = Int(out[i + 3])
            for c in 0..<3 {
                let t = Int(out[i + c]) * a + 128
                out[i + c] = UInt8(((t >> 8) + t) >> 8)
            }
        }
        return Image(width: width, height: height, channels: 4, pixels: out)
    }

    /// Pillow's "RGBa" -> RGBA: colour * 255 / alpha, truncated and clipped (alpha 0 and 255 left as is).
    func unpremultiplied() -> Image {
        var out = pixels
        for i in stride(from: 0, to: out.count, by: 4) {
            let a = Int(out[i + 3])
            guard a != 0 && a != 255 else { continue }
            for c in 0..<3 { out[i + c] = UInt8(min(255, Int(out[i + c]) * 255 / a)) }
        }
        return Image(width: width, height: height, channels: 4, pixels: out)
    }
}
