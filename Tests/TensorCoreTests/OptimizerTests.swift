import TestSupport
import Testing
@testable import TensorCore

@Suite struct OptimizerTests {
    private func make(_ c: FixtureCase) -> any Optimizer {
        func f(_ key: String, _ fallback: Float) -> Float { c.has(key) ? Float(c.double(key)) : fallback }
        switch c.name {
        case "adam_default": return Adam()
        case "adam_custom": return Adam(lr: f("lr", 0), beta1: f("beta1", 0), beta2: f("beta2", 0), eps: f("eps", 0))
        case "rmsprop_default": return RMSprop()
        case "rmsprop_momentum": return RMSprop(lr: f("lr", 0), alpha: f("alpha", 0), eps: f("eps", 0), momentum: f("momentum", 0))
        default: return SGD(lr: f("lr", 0), momentum: f("momentum", 0), nesterov: c.bool("nesterov"))
        }
    }

    // Five steps with PyTorch's gradients; both sides do the same float32 arithmetic up to operation order,
    // so parameters (O(1)) agree to 1e-6 abs + 1e-5 rel.
    @Test func fiveStepsMatchTorchOptim() throws {
        let cases = try loadFixtureCases("optim.json")
        #expect(cases.count == 7)
        for c in cases {
            let p = c.input("p"), q = c.input("q")
            let optimizer = make(c)
            for step in 0..<5 {
                p.grad = c.input("gp\(step)")
                q.grad = c.input("gq\(step)")
                optimizer.step([p, q])
                #expect(p.grad == nil && q.grad == nil, "\(c.name): step must clear the gradients")
            }
            expectClose(p, c.output("p"), atol: 1e-6, rtol: 1e-5, "\(c.name) p after 5 steps")
            expectClose(q, c.output("q"), atol: 1e-6, rtol: 1e-5, "\(c.name) q after 5 steps")
        }
    }

    @Test func optimisersMinimiseAndSkipParametersWithoutGradients() {
        for optimizer in [Adam(lr: 0.1), SGD(lr: 0.1, momentum: 0.5), RMSprop(lr: 0.05)] as [any Optimizer] {
            let x = Tensor(shape: [3], storage: [1, -2, 3]); x.requiresGrad = true
            let untouched = Tensor(shape: [2], storage: [5, 6]); untouched.requiresGrad = true
            for _ in 0..<20 {
                squareSum(x).backward()
                optimizer.step([x, untouched])
            }
            #expect(squareSum(x).scalar < 14 * 0.5, "\(type(of: optimizer)) must decrease sum(x^2) from 14")
            #expect(untouched.storage == [5, 6])
        }
    }

    @Test func firstStepsByHand() {
        // SGD: x - lr*g = 1 - 0.1*2 = 0.8. Adam's first step moves every coordinate by lr*sign(g)
        // (bias-corrected m/sqrt(v) = g/|g|, eps aside): 1 - 0.01 = 0.99.
        let x = Tensor(shape: [1], storage: [1])
        x.grad = Tensor(shape: [1], storage: [2])
        SGD(lr: 0.1).step([x])
        #expect(x.storage == [0.8])
        let y = Tensor(shape: [2], storage: [1, 1])
        y.grad = Tensor(shape: [2], storage: [3, -0.5])
        Adam(lr: 0.01).step([y])
        expectClose(y, Tensor(shape: [2], storage: [0.99, 1.01]), atol: 1e-6, rtol: 0, "Adam first step")
    }
}
