import TensorCore
import Models

/// Which space a parametrisation's images live in.
public enum ImageSpace: String, Codable, Sendable {
    /// Plain RGB in [0, 1]; the network applies its own preprocessing.
    case rgb
    /// The network's own input space (after preprocessing), as in the Keras-2016 recipe: nothing is applied.
    case modelInput
}

/// How the optimised images are represented: the tensors the optimiser changes, and how they become a batch.
///
/// Every image has its own random stream (one `SeededGenerator` per image, derived from the run's seed and the
/// filter), so a filter's picture does not depend on which other filters share its batch.
public protocol Parametrization: AnyObject {
    /// The tensors the optimiser updates (leaves that require gradients).
    var parameters: [Tensor] { get }
    /// The image batch (N, 3, H, W) in `space`, recorded for autograd.
    func render() -> Tensor
    /// The space `render()` works in.
    var space: ImageSpace { get }
    /// A displayable RGB batch in [0, 1] (no autograd).
    func displayRGB(preprocessing: Preprocessing) -> Tensor
}

extension Parametrization {
    public func displayRGB(preprocessing: Preprocessing) -> Tensor {
        GradMode.withoutGrad { render().detached() }
    }
}

/// One value per pixel, squashed into [0, 1] by a sigmoid, optionally with decorrelated colour (lucid's "pixel").
public final class PixelParametrization: Parametrization {
    public let parameters: [Tensor]
    let decorrelate: Bool
    public var space: ImageSpace { .rgb }

    /// Small normal noise around grey (sigmoid(0) = 0.5), std `std`, drawn per image from its own generator.
    public init(batch: Int, size: Int, std: Float = 0.01, decorrelate: Bool = true, generators: inout [SeededGenerator]) {
        precondition(generators.count == batch, "PixelParametrization: \(generators.count) generators for \(batch) images")
        var values: [Float] = []
        values.reserveCapacity(batch * 3 * size * size)
        for b in 0..<batch {
            values += Tensor.randomNormal(shape: [3, size, size], std: std, using: &generators[b]).storage
        }
        let t = Tensor(shape: [batch, 3, size, size], storage: values)
        t.requiresGrad = true
        parameters = [t]
        self.decorrelate = decorrelate
    }

    public func render() -> Tensor {
        let t = parameters[0]
        return sigmoid(decorrelate ? mixColorChannels(t, matrix: ColorDecorrelation.matrix) : t)
    }
}

/// lucid's colour decorrelation: the square root of ImageNet's colour covariance, normalised to unit max norm.
enum ColorDecorrelation {
    static let matrix: [Float] = {
        let m: [Float] = [0.26, 0.09, 0.02, 0.27, 0.00, -0.05, 0.27, -0.09, 0.03]
        var maxNorm: Float = 0
        for col in 0..<3 {
            maxNorm = max(maxNorm, (0..<3).map { m[$0 * 3 + col] * m[$0 * 3 + col] }.reduce(0, +).squareRoot())
        }
        return m.map { $0 / maxNorm }
    }()
}
