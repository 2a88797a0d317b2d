import Foundation
import Models
import TensorCore
import TestSupport
import Testing

/// `redirectedReLU` against lucid's `redirected_relu_grad` (transcribed to numpy in Scripts/fixtures/render_ops.py
/// -> redirected_relu.json), by hand for each branch of the rule, and by finite differences where it is the ReLU.
@Suite struct RedirectedReLUTests {
    static let cases: [FixtureCase] = (try? loadFixtureCases("redirected_relu.json", in: .module)) ?? []

    @Test("forward is ReLU; the backward equals lucid's rule, per image", arguments: ["redirected_relu", "redirected_relu_rank2"])
    func matchesLucid(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name }, "redirected_relu.json lacks \(name): run Scripts/fixtures/render_ops.py")
        runOpFixture(c, atol: 0, rtol: 0) { inputs in redirectedReLU(inputs["x"]!) }
        // The fixture exercises both branches: the redirected images differ from the plain ReLU derivative.
        let x = c.input("x"), g = c.input("gout"), lucid = c.grad("x")
        let per = x.count / x.shape[0]
        for b in c.ints("redirected_images") {
            let range = (b * per)..<((b + 1) * per)
            #expect(range.contains { x.storage[$0] < 0 && lucid.storage[$0] != 0 }, "image \(b) is not on the redirected branch")
            #expect(range.allSatisfy { x.storage[$0] >= 0 || g.storage[$0] < 0 || lucid.storage[$0] == g.storage[$0] })
        }
    }

    /// The input gradient of redirectedReLU(x) for upstream gradient `g` (shapes (N, K)).
    func backward(_ x: [[Float]], _ g: [[Float]]) -> [[Float]] {
        let t = Tensor(shape: [x.count, x[0].count], storage: x.flatMap { $0 })
        t.requiresGrad = true
        redirectedReLU(t).backward(seed: Tensor(shape: t.shape, storage: g.flatMap { $0 }))
        let grad = t.grad!.storage
        return (0..<x.count).map { Array(grad[($0 * x[0].count)..<(($0 + 1) * x[0].count)]) }
    }

    @Test("by hand: each branch of the rule")
    func eachBranch() {
        // Exact branch: unit 0 is on and gets a gradient, so the off units get none, whatever the sign.
        #expect(backward([[1, -1, -2]], [[0.5, 3, -3]]) == [[0.5, 0, 0]])
        // Redirected: every unit is off; a gradient that raises the score (> 0) passes, one that lowers it does not.
        #expect(backward([[-1, -1, -2]], [[0.5, 3, -3]]) == [[0.5, 3, 0]])
        // Redirected: a unit is on but its gradient is 0, so nothing gets through the exact rule either.
        #expect(backward([[1, -1, -2]], [[0, 3, -3]]) == [[0, 3, 0]])
        // Per image: image 0 takes the exact branch, image 1 the redirected one, in one batch.
        #expect(backward([[1, -1], [-1, -1]], [[2, 4], [2, -4]]) == [[2, 0], [2, 0]])
        // At exactly 0 filtervis counts the unit as off (x <= 0, PyTorch's and TensorFlow's Relu derivative);
        // lucid's rule tests x < 0 and would pass 3 here and -3 below. Only exact zeros differ.
        #expect(backward([[1, 0]], [[1, 3]]) == [[1, 0]])
        #expect(backward([[-1, 0]], [[1, -3]]) == [[1, 0]])
    }

    @Test("where every image gets a gradient through the ReLU, the gradient equals finite differences")
    func finiteDifferences() {
        var rng = SeededGenerator(seed: 3)
        // Values at least 0.05 from the kink (the step is 0.01); every image has units on.
        let x = Tensor.randomNormal(shape: [3, 2, 4, 4], using: &rng)
        x.storage = x.storage.map { abs($0) < 0.05 ? 0.3 : $0 }
        expectGradientMatchesFiniteDifferences("redirectedReLU", at: x, tolerance: 1e-3) { redirectedReLU($0) }
    }
}
