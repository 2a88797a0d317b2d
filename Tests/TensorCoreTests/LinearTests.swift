import Testing
@testable import TensorCore

@Suite struct LinearTests {
    @Test func linearMatchesPyTorch() throws {
        let cases = try fixtureCases(op: ["linear"])
        #expect(cases.count >= 2)
        for c in cases {
            checkFixtureCase(c) { t in linear(t["x"]!, weight: t["weight"]!, bias: t["bias"]) }
        }
    }

    @Test func smallExampleIsExact() {
        // torch: F.linear([[1,2],[3,4]], [[1,0],[1,1],[0,-1]], [10,20,30]) = [[11,23,28],[13,27,26]]
        let x = Tensor(shape: [2, 2], storage: [1, 2, 3, 4])
        let w = Tensor(shape: [3, 2], storage: [1, 0, 1, 1, 0, -1])
        let b = Tensor(shape: [3], storage: [10, 20, 30])
        #expect(linear(x, weight: w, bias: b).storage == [11, 23, 28, 13, 27, 26])
    }

    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.randomNormal(shape: [3, 37], using: &rng)
        let w = Tensor.randomNormal(shape: [11, 37], using: &rng)
        let b = Tensor.randomNormal(shape: [11], using: &rng)
        expectGradientMatchesFiniteDifferences("linear d/dx", at: x) { linear($0, weight: w, bias: b) }
        expectGradientMatchesFiniteDifferences("linear d/dweight", at: w) { linear(x, weight: $0, bias: b) }
        expectGradientMatchesFiniteDifferences("linear d/dbias", at: b) { linear(x, weight: w, bias: $0) }
    }
}
