import TestSupport
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

    @Test(arguments: [1, 5, 16, 17, 40])
    func bothBatchPathsMatchDirectSums(batch: Int) {
        // Batches up to 16 take the weight-streaming path, larger ones the packed GEMM; both against Double sums.
        var rng = SeededGenerator(seed: UInt64(batch))
        let x = Tensor.randomNormal(shape: [batch, 531], using: &rng)
        let w = Tensor.randomNormal(shape: [37, 531], using: &rng)
        var expected = [Float](repeating: 0, count: batch * 37)
        for b in 0..<batch { for o in 0..<37 {
            var s = 0.0
            for k in 0..<531 { s += Double(x.storage[b * 531 + k]) * Double(w.storage[o * 531 + k]) }
            expected[b * 37 + o] = Float(s)
        } }
        // 531 products of N(0,1) values: float32 accumulation error stays well below 1e-3.
        expectClose(linear(x, weight: w), Tensor(shape: [batch, 37], storage: expected), atol: 1e-3, rtol: 1e-4, "linear batch \(batch)")
    }

    @Test("Batches of 3-16 (3x8 tiles) give each row the bits it gets alone", arguments: [3, 8, 9, 13, 16])
    func tiledRowsEqualSingleRows(batch: Int) {
        // Every output is summed in the same order by both small-batch kernels, so a row's result must not depend
        // on its batch: this fails on any tile index error (rows and features past the tile ends included).
        var rng = SeededGenerator(seed: 40 + UInt64(batch))
        let x = Tensor.randomNormal(shape: [batch, 531], using: &rng)
        let w = Tensor.randomNormal(shape: [37, 531], using: &rng)
        let together = linear(x, weight: w)
        for b in 0..<batch {
            let row = Tensor(shape: [1, 531], storage: Array(x.storage[(b * 531)..<((b + 1) * 531)]))
            #expect(linear(row, weight: w).storage == Array(together.storage[(b * 37)..<((b + 1) * 37)]), "row \(b) of \(batch)")
        }
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
