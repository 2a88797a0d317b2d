import Foundation
import TestSupport
import Testing
@testable import TensorCore

@Suite struct OpsTests {
    /// The op a case of ops.json names, applied to its inputs.
    private func apply(_ c: FixtureCase, _ t: [String: Tensor]) -> Tensor {
        let x = t["input"], a = t["a"], b = t["b"]
        switch c.name {
        case "add": return a! + b!
        case "sub": return a! - b!
        case "mul": return a! * b!
        case "div": return a! / b!
        case "relu": return relu(x!)
        case "leaky_relu": return leakyRelu(x!, slope: Float(c.double("slope")))
        case "sigmoid": return sigmoid(x!)
        case "tanh": return tanh(x!)
        case "sqrt": return sqrt(x!)
        case "abs": return abs(x!)
        case "clamp": return clamp(x!, min: Float(c.double("min")), max: Float(c.double("max")))
        case "exp": return exp(x!)
        case "log": return log(x!)
        case "square": return square(x!)
        case "pow", "pow3": return pow(x!, Float(c.double("p")))
        case "sum_axes": return sum(x!, axes: c.ints("axes"), keepDims: c.bool("keep"))
        case "mean_axis": return mean(x!, axes: c.ints("axes"), keepDims: c.bool("keep"))
        case "sum_all": return sum(x!)
        case "reshape": return reshape(x!, c.ints("shape"))
        case "maximum": return maximum(a!, b!)
        case "minimum": return minimum(a!, b!)
        case "square_sum": return squareSum(x!)
        case "softmax": return softmax(x!, axis: c.int("axis"))
        case "log_softmax": return logSoftmax(x!, axis: c.int("axis"))
        case "permute": return permute(x!, c.ints("order"))
        case "transpose": return transpose(x!, c.int("a"), c.int("b"))
        case "slice": return slice(x!, axis: c.int("axis"), range: c.int("lo")..<c.int("hi"), step: c.int("step"))
        case "concat": return concat([a!, b!, t["c"]!], axis: c.int("axis"))
        default:
            Issue.record("ops.json: no test for case \(c.name)")
            return Tensor(scalar: .nan)
        }
    }

    // Float32 elementwise maths against PyTorch's float32: differences are a few ulps, so 1e-5 abs + 1e-4 rel.
    @Test func elementwiseReductionLayoutAndSoftmaxMatchPyTorch() throws {
        let cases = try loadFixtureCases("ops.json")
        #expect(cases.count == 29)
        for c in cases {
            runOpFixture(c) { (t: [String: Tensor]) -> Tensor in apply(c, t) }
        }
    }

    @Test func smallCasesByHand() {
        // torch.arange(6.).reshape(2, 3).permute(1, 0) -> [[0, 3], [1, 4], [2, 5]]
        let x = Tensor(shape: [2, 3], storage: [0, 1, 2, 3, 4, 5])
        #expect(transpose(x, 0, 1).storage == [0, 3, 1, 4, 2, 5])
        // x[:, ::2] -> [[0, 2], [3, 5]]; cat([x, x[:, :1]], 1) -> [[0,1,2,0],[3,4,5,3]]
        #expect(slice(x, axis: 1, range: 0..<3, step: 2).storage == [0, 2, 3, 5])
        #expect(concat([x, slice(x, axis: 1, range: 0..<1)], axis: 1).storage == [0, 1, 2, 0, 3, 4, 5, 3])
        // softmax([0, ln 3]) = [0.25, 0.75]
        let s = softmax(Tensor(shape: [2], storage: [0, Float(Foundation.log(3.0))]), axis: 0)
        let expectedSoftmax: [Float] = [0.25, 0.75]
        expectClose(s, Tensor(shape: [2], storage: expectedSoftmax), atol: 1e-7, rtol: 0, "softmax([0, ln 3])")
        // squareSum([1, -2, 3]) = 14; maximum ties split the gradient: d max(x, x)/dx... via two leaves.
        #expect(squareSum(Tensor(shape: [3], storage: [1, -2, 3])).scalar == 14)
        let p = Tensor(shape: [1], storage: [2]), q = Tensor(shape: [1], storage: [2])
        p.requiresGrad = true; q.requiresGrad = true
        maximum(p, q).backward()
        #expect(p.grad?.storage == [0.5] && q.grad?.storage == [0.5])
    }

    // Finite differences (eps 1e-2 in float32, checked in double): smooth ops agree to ~1e-3 of the largest
    // gradient; the 2% tolerance leaves room for float32 rounding of O(1) outputs divided by 2*eps.
    // Kinked ops (relu, abs, maximum, minimum) are probed at points at least 0.05 > eps from their kinks.
    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.randomNormal(shape: [2, 3, 4], using: &rng)
        let awayFromKinks = x.mapValues { (v: Float) -> Float in v >= 0 ? v + 0.05 : v - 0.05 }
        let positive = x.mapValues { (v: Float) -> Float in Swift.abs(v) + 0.5 }
        let other = Tensor.randomNormal(shape: [3, 1], using: &rng)
        expectGradientMatchesFiniteDifferences("pow 2.5", at: positive) { pow($0, 2.5) }
        expectGradientMatchesFiniteDifferences("softmax", at: x) { softmax($0, axis: 1) }
        expectGradientMatchesFiniteDifferences("logSoftmax", at: x) { logSoftmax($0, axis: -1) }
        expectGradientMatchesFiniteDifferences("permute", at: x) { permute($0, [2, 0, 1]) }
        expectGradientMatchesFiniteDifferences("slice", at: x) { slice($0, axis: 2, range: 1..<4, step: 2) }
        expectGradientMatchesFiniteDifferences("concat", at: x) { concat([$0, square($0)], axis: 1) }
        expectGradientMatchesFiniteDifferences("squareSum", at: x) { squareSum($0) }
        expectGradientMatchesFiniteDifferences("relu", at: awayFromKinks) { relu($0) }
        expectGradientMatchesFiniteDifferences("abs", at: awayFromKinks) { abs($0) }
        expectGradientMatchesFiniteDifferences("sqrt", at: positive) { sqrt($0) }
        expectGradientMatchesFiniteDifferences("log", at: positive) { log($0) }
        expectGradientMatchesFiniteDifferences("exp", at: x) { exp($0) }
        expectGradientMatchesFiniteDifferences("leakyRelu", at: awayFromKinks) { leakyRelu($0, slope: 0.2) }
        // Probes within 0.05 of a clamp bound (±0.6) are moved 20% outwards, so none is within eps of a kink.
        let offBounds = awayFromKinks.mapValues { (v: Float) -> Float in Swift.abs(Swift.abs(v) - 0.6) < 0.05 ? v * 1.2 : v }
        expectGradientMatchesFiniteDifferences("clamp", at: offBounds) { clamp($0, min: -0.6, max: 0.6) }
        let weights = reshape(x, [4, 6])
        expectGradientMatchesFiniteDifferences("reshape", at: x) { reshape($0, [4, -1]) * weights }
        expectGradientMatchesFiniteDifferences("transpose", at: x) { transpose($0, 0, 2) }
        expectGradientMatchesFiniteDifferences("add/sub broadcast", at: other) { (x + $0) * (x - $0) }
        // Extremes with every compared pair 0.3 apart, so both inputs' gradients are exercised.
        let shifted = x.mapValues { (v: Float) -> Float in v > 0 ? v - 0.3 : v + 0.3 }
        expectGradientMatchesFiniteDifferences("maximum", at: x) { maximum($0, shifted) }
        var aroundValues = [Float](repeating: 0, count: 24)
        for i in 0..<24 {
            let offset: Float = i % 2 == 0 ? 0.3 : -0.3
            aroundValues[i] = other.storage[(i / 4) % 3] + offset
        }
        let around = Tensor(shape: [2, 3, 4], storage: aroundValues)
        expectGradientMatchesFiniteDifferences("minimum (broadcast)", at: other) { minimum(around, $0) }
    }
}
