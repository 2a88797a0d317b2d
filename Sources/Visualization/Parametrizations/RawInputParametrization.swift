import TensorCore
import Models

/// The Keras-2016 recipe's image: the network input itself, with nothing applied, started from grey noise.
public final class RawInputParametrization: Parametrization {
    public let parameters: [Tensor]
    public var space: ImageSpace { .modelInput }

    /// Grey noise as the Keras blog drew it: uniform 128 +- 10 in the 0..255 input of a Caffe-style network; for
    /// other conventions, the same grey noise in RGB mapped through their preprocessing.
    public init(batch: Int, size: Int, preprocessing: Preprocessing, generators: inout [SeededGenerator]) {
        precondition(generators.count == batch, "RawInputParametrization: \(generators.count) generators for \(batch) images")
        var values: [Float] = []
        for b in 0..<batch {
            values += Tensor.randomUniform(shape: [3, size, size], in: 0..<1, using: &generators[b]).storage.map { $0 * 20 + 128 }
        }
        var t = Tensor(shape: [batch, 3, size, size], storage: values)
        if preprocessing != .caffe { t = preprocessing.apply(t / 255) }
        let leaf = t.detached()
        leaf.requiresGrad = true
        parameters = [leaf]
    }

    public func render() -> Tensor { parameters[0] }

    /// The Keras blog's display stretch, per image: standardise, scale to std 0.1 around 0.5, clip to [0, 1];
    /// channels put back in RGB order for BGR inputs.
    public func displayRGB(preprocessing: Preprocessing) -> Tensor {
        let t = parameters[0]
        let (n, plane) = (t.shape[0], 3 * t.shape[2] * t.shape[3])
        var out = [Float](repeating: 0, count: t.count)
        for b in 0..<n {
            let values = t.storage[(b * plane)..<((b + 1) * plane)]
            let meanValue = values.reduce(0, +) / Float(plane)
            let variance = values.reduce(0) { $0 + ($1 - meanValue) * ($1 - meanValue) } / Float(plane)
            let std = variance.squareRoot()
            for (i, v) in values.enumerated() {
                out[b * plane + i] = min(max((v - meanValue) / (std + 1e-5) * 0.1 + 0.5, 0), 1)
            }
        }
        var rgb = Tensor(shape: t.shape, storage: out)
        if preprocessing == .caffe { rgb = swapRedBlue(rgb) }
        return rgb
    }
}

/// Reverses the channel order of an (N, 3, H, W) batch (BGR <-> RGB), without autograd.
func swapRedBlue(_ x: Tensor) -> Tensor {
    let (n, plane) = (x.shape[0], x.shape[2] * x.shape[3])
    var out = x.storage
    for b in 0..<n {
        for i in 0..<plane {
            out[(b * 3) * plane + i] = x.storage[(b * 3 + 2) * plane + i]
            out[(b * 3 + 2) * plane + i] = x.storage[(b * 3) * plane + i]
        }
    }
    return Tensor(shape: x.shape, storage: out)
}
