import Foundation

/// Adam with bias correction, exactly as torch.optim.Adam (no weight decay, not amsgrad).
public final class Adam: Optimizer {
    public let lr: Float, beta1: Float, beta2: Float, eps: Float
    /// Steps taken so far (PyTorch's `state["step"]`).
    public private(set) var stepCount = 0
    private var firstMoment = OptimizerSlots(name: "Adam")
    private var secondMoment = OptimizerSlots(name: "Adam")

    /// PyTorch defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8.
    public init(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        precondition(lr >= 0 && eps >= 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2),
                     "Adam: need lr >= 0, eps >= 0, betas in [0, 1); got lr \(lr) betas (\(beta1), \(beta2)) eps \(eps)")
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
    }

    public func step(_ params: [Tensor]) {
        _ = firstMoment.prepare(params)
        _ = secondMoment.prepare(params)
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = lr / Float(1 - Foundation.pow(Double(beta1), t))
        let correction2Sqrt = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            precondition(g.shape == p.shape, "Adam.step: gradient shape \(g.shape) differs from parameter \(p.shape)")
            let b1 = beta1, b2 = beta2, eps = eps
            firstMoment[i].withUnsafeMutableBufferPointer { m in
                secondMoment[i].withUnsafeMutableBufferPointer { v in
                    g.storage.withUnsafeBufferPointer { g in
                        p.storage.withUnsafeMutableBufferPointer { x in
                            for k in 0..<x.count {
                                m[k] += (g[k] - m[k]) * (1 - b1)          // exp_avg.lerp_(grad, 1 - beta1)
                                v[k] = v[k] * b2 + (1 - b2) * g[k] * g[k]  // exp_avg_sq.mul_(b2).addcmul_(g, g, 1 - b2)
                                let denom = v[k].squareRoot() / correction2Sqrt + eps
                                x[k] -= stepSize * m[k] / denom
                            }
                        }
                    }
                }
            }
            p.grad = nil
        }
    }
}
