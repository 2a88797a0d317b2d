/// RMSprop (not centred), as torch.optim.RMSprop: divide by the root of a running mean of squared gradients.
public final class RMSprop: Optimizer {
    public let lr: Float, alpha: Float, eps: Float, momentum: Float
    private var squareAverage = OptimizerSlots(name: "RMSprop")
    private var velocity = OptimizerSlots(name: "RMSprop")

    /// PyTorch defaults: lr 1e-2, alpha 0.99, eps 1e-8, momentum 0.
    public init(lr: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8, momentum: Float = 0) {
        precondition(lr >= 0 && eps >= 0 && momentum >= 0 && (0...1).contains(alpha),
                     "RMSprop: need lr, eps, momentum >= 0 and alpha in [0, 1]; got lr \(lr) alpha \(alpha) eps \(eps) momentum \(momentum)")
        self.lr = lr; self.alpha = alpha; self.eps = eps; self.momentum = momentum
    }

    public func step(_ params: [Tensor]) {
        _ = squareAverage.prepare(params)
        _ = velocity.prepare(params)
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            precondition(g.shape == p.shape, "RMSprop.step: gradient shape \(g.shape) differs from parameter \(p.shape)")
            let lr = lr, alpha = alpha, eps = eps, mu = momentum
            squareAverage[i].withUnsafeMutableBufferPointer { sq in
                velocity[i].withUnsafeMutableBufferPointer { buf in
                    g.storage.withUnsafeBufferPointer { g in
                        p.storage.withUnsafeMutableBufferPointer { x in
                            for k in 0..<x.count {
                                sq[k] = sq[k] * alpha + (1 - alpha) * g[k] * g[k]
                                let avg = sq[k].squareRoot() + eps
                                if mu > 0 {
                                    buf[k] = buf[k] * mu + g[k] / avg
                                    x[k] -= lr * buf[k]
                                } else {
                                    x[k] -= lr * g[k] / avg
                                }
                            }
                        }
                    }
                }
            }
            p.grad = nil
        }
    }
}
