/// Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD (no dampening or decay).
public final class SGD: Optimizer {
    public let lr: Float, momentum: Float, nesterov: Bool
    private var velocity = OptimizerSlots(name: "SGD")

    public init(lr: Float, momentum: Float = 0, nesterov: Bool = false) {
        precondition(lr >= 0 && momentum >= 0, "SGD: need lr >= 0 and momentum >= 0, got lr \(lr) momentum \(momentum)")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.lr = lr; self.momentum = momentum; self.nesterov = nesterov
    }

    public func step(_ params: [Tensor]) {
        let first = velocity.prepare(params)
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            precondition(g.shape == p.shape, "SGD.step: gradient shape \(g.shape) differs from parameter \(p.shape)")
            let lr = lr, mu = momentum, nesterov = nesterov
            velocity[i].withUnsafeMutableBufferPointer { buf in
                g.storage.withUnsafeBufferPointer { g in
                    p.storage.withUnsafeMutableBufferPointer { x in
                        for k in 0..<x.count {
                            var d = g[k]
                            if mu != 0 {
                                // PyTorch starts the buffer at the first gradient, not at zero.
                                buf[k] = first ? d : buf[k] * mu + d
                                d = nesterov ? d + mu * buf[k] : buf[k]
                            }
                            x[k] -= lr * d
                        }
                    }
                }
            }
            p.grad = nil
        }
    }
}
