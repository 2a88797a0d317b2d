import Foundation

// Gaussian blur of the last two axes, as torchvision.transforms.functional.gaussian_blur on float tensors
// (reflect padding by kernelSize/2, a normalised sampled Gaussian), done separably.

/// torchvision's 1-D kernel: exp(-x²/2σ²) at x = -(k-1)/2 ... (k-1)/2, normalised to sum 1.
func gaussianKernel(size: Int, sigma: Float) -> [Float] {
    let half = Double(size - 1) * 0.5
    let values = (0..<size).map { i -> Double in
        let x = -half + Double(i)
        return Foundation.exp(-0.5 * (x / Double(sigma)) * (x / Double(sigma)))
    }
    let total = values.reduce(0, +)
    return values.map { Float($0 / total) }
}

/// The index of `i` reflected into 0..<n without repeating the edge (PyTorch's "reflect" padding).
@inline(__always) func reflectIndex(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    var i = i
    let period = 2 * (n - 1)
    i = ((i % period) + period) % period
    return i < n ? i : period - i
}

/// Blurs the last two axes with a Gaussian of standard deviation `sigma` pixels and odd `kernelSize`
/// (default: the smallest odd size covering ±3σ), reflect padding like torchvision's `gaussian_blur`.
public func gaussianBlur(_ x: Tensor, sigma: Float, kernelSize: Int? = nil) -> Tensor {
    precondition(x.rank >= 2, "gaussianBlur: input must have at least 2 axes (..., H, W), got shape \(x.shape)")
    precondition(sigma > 0, "gaussianBlur: sigma must be positive, got \(sigma)")
    let size = kernelSize ?? (2 * Int((3 * sigma).rounded(.up)) + 1)
    precondition(size >= 1 && size % 2 == 1, "gaussianBlur: kernel size must be odd and positive, got \(size)")
    let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
    let half = size / 2
    precondition(half < h && half < w,
                 "gaussianBlur: reflect padding \(half) (kernel size \(size)) needs H and W above it; input shape \(x.shape) — use a smaller kernel")
    let kernel = gaussianKernel(size: size, sigma: sigma)
    func matrix(_ n: Int) -> ResampleMatrix {
        ResampleMatrix(outCount: n, inCount: n) { i in
            (0..<size).map { t in (reflectIndex(i - half + t, n), kernel[t]) }
        }
    }
    return Separable.op("gaussian_blur", x, rows: matrix(h), cols: matrix(w))
}
