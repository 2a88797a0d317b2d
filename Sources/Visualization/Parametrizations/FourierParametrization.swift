import TensorCore

/// lucid's Fourier image: a spectrum scaled by 1/f, inverse-FFT'd, colour-decorrelated and squashed by a sigmoid.
///
/// Optimising the spectrum with 1/f scaling equalises the step size across frequencies, so gradient ascent does
/// not pile up high-frequency noise: the main reason lucid's pictures look like pictures.
public final class FourierParametrization: Parametrization {
    public let parameters: [Tensor]
    let height: Int, width: Int
    let scale: Tensor
    let decorrelate: Bool
    public var space: ImageSpace { .rgb }

    /// A spectrum of normal noise (std `std`, lucid's 0.01) per image, from that image's generator.
    public init(batch: Int, size: Int, std: Float = 0.01, decayPower: Float = 1, decorrelate: Bool = true,
                generators: inout [SeededGenerator]) {
        precondition(generators.count == batch, "FourierParametrization: \(generators.count) generators for \(batch) images")
        height = size
        width = size
        let fw = size / 2 + 1
        var values: [Float] = []
        values.reserveCapacity(batch * 3 * size * fw * 2)
        for b in 0..<batch {
            values += Tensor.randomNormal(shape: [3, size, fw, 2], std: std, using: &generators[b]).storage
        }
        let spectrum = Tensor(shape: [batch, 3, size, fw, 2], storage: values)
        spectrum.requiresGrad = true
        parameters = [spectrum]
        scale = FourierParametrization.spectrumScale(height: size, width: size, decayPower: decayPower)
        self.decorrelate = decorrelate
    }

    /// 1 / max(f, 1/max(H, W))^decay * sqrt(H W), shaped (1, 1, H, W/2+1, 1) to broadcast over real/imag.
    static func spectrumScale(height h: Int, width w: Int, decayPower: Float) -> Tensor {
        let fw = w / 2 + 1
        var s = [Float](repeating: 0, count: h * fw)
        let floor = 1 / Double(max(h, w))
        for y in 0..<h {
            let fy = Double(y < (h + 1) / 2 ? y : y - h) / Double(h)   // numpy fftfreq
            for x in 0..<fw {
                let fx = Double(x) / Double(w)
                let f = max((fx * fx + fy * fy).squareRoot(), floor)
                s[y * fw + x] = Float(1 / Foundation.pow(f, Double(decayPower)) * (Double(h * w)).squareRoot())
            }
        }
        return Tensor(shape: [1, 1, h, fw, 1], storage: s)
    }

    public func render() -> Tensor {
        let image = irfft2(parameters[0] * scale, height: height, width: width) / 4  // lucid's constant
        return sigmoid(decorrelate ? mixColorChannels(image, matrix: ColorDecorrelation.matrix) : image)
    }
}

import Foundation
