import TensorCore

/// How the image parameters climb the score.
public enum AscentMethod: Equatable, Codable, Sendable {
    /// Adam on the negated score (PyTorch's Adam, which minimises).
    case adam(learningRate: Float)
    /// The Keras-2016 step: p += step * g / (RMS(g) + 1e-5), the RMS taken per image.
    case normalizedGradient(stepSize: Float)
    /// Plain gradient ascent with momentum.
    case sgd(learningRate: Float, momentum: Float)

    /// The same method with its learning rate or step size replaced (the `--lr` / `overrides.lr` setting).
    public func withRate(_ rate: Float) -> AscentMethod {
        switch self {
        case .adam: return .adam(learningRate: rate)
        case .normalizedGradient: return .normalizedGradient(stepSize: rate)
        case let .sgd(_, momentum): return .sgd(learningRate: rate, momentum: momentum)
        }
    }

    /// The learning rate or step size.
    public var rate: Float {
        switch self {
        case let .adam(lr): return lr
        case let .normalizedGradient(step): return step
        case let .sgd(lr, _): return lr
        }
    }

    public var summary: String {
        switch self {
        case let .adam(lr): return "adam(lr \(lr))"
        case let .normalizedGradient(step): return "normalized-gradient(step \(step))"
        case let .sgd(lr, m): return "sgd(lr \(lr), momentum \(m))"
        }
    }
}

/// Applies an `AscentMethod` step by step, keeping the optimiser's state.
final class Ascender {
    let method: AscentMethod
    private var optimizer: (any Optimizer)?

    init(method: AscentMethod) {
        self.method = method
        switch method {
        case let .adam(lr): optimizer = Adam(lr: lr)
        case let .sgd(lr, momentum): optimizer = SGD(lr: lr, momentum: momentum)
        case .normalizedGradient: optimizer = nil
        }
    }

    /// Moves every parameter up its score gradient (`grad` holds d score / d parameter) and clears the gradients.
    func ascend(_ parameters: [Tensor]) {
        switch method {
        case let .normalizedGradient(step):
            for p in parameters {
                guard let g = p.grad else { continue }
                let n = p.shape[0], per = p.count / n
                for b in 0..<n {
                    var squares = 0.0
                    for i in (b * per)..<((b + 1) * per) { squares += Double(g.storage[i]) * Double(g.storage[i]) }
                    let factor = step / (Float((squares / Double(per)).squareRoot()) + 1e-5)
                    for i in (b * per)..<((b + 1) * per) { p.storage[i] += factor * g.storage[i] }
                }
                p.grad = nil
            }
        default:
            // The optimisers minimise: hand them the gradient of -score.
            for p in parameters { p.grad = p.grad?.mapValues { -$0 } }
            optimizer!.step(parameters)
        }
    }
}
