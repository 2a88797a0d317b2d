import TestSupport
import Testing
@testable import TensorCore

@Suite struct PoolingTests {
    @Test func maxPoolMatchesPyTorch() throws {
        let cases = try fixtureCases(op: ["maxPool2d"])
        #expect(cases.count >= 5)
        for c in cases {
            checkFixtureCase(c) { t in
                maxPool2d(t["x"]!, kernel: c.int("kernel"), stride: c.int("stride"), padding: c.int("padding"),
                          ceilMode: c.bool("ceilMode"))
            }
        }
    }

    @Test func avgPoolMatchesPyTorch() throws {
        let cases = try fixtureCases(op: ["avgPool2d"])
        #expect(cases.count >= 4)
        for c in cases {
            checkFixtureCase(c) { t in
                avgPool2d(t["x"]!, kernel: c.int("kernel"), stride: c.int("stride"), padding: c.int("padding"),
                          ceilMode: c.bool("ceilMode"), countIncludePad: c.bool("countIncludePad"))
            }
        }
    }

    @Test func adaptiveAvgPoolMatchesPyTorch() throws {
        let cases = try fixtureCases(op: ["adaptiveAvgPool2d"])
        #expect(cases.count >= 4)
        for c in cases {
            let size = c.ints("size")
            checkFixtureCase(c) { t in adaptiveAvgPool2d(t["x"]!, outputSize: (size[0], size[1])) }
        }
    }

    @Test func vectorTwoByTwoPathMatchesScalarRule() {
        // 2x2/2 pooling of rows 40 wide runs 16 windows at a time plus a scalar tail; values on a coarse grid
        // make ties common, and one NaN must win its window (PyTorch propagates NaN). Reference: PyTorch's rule,
        // first maximum in row-major window order, NaN replaces anything.
        var rng = SeededGenerator(seed: 8)
        var data = (0..<(2 * 3 * 6 * 41)).map { _ in Float(rng.integer(in: -3...3)) }
        data[5] = .nan
        let x = Tensor(shape: [2, 3, 6, 41], storage: data)
        x.requiresGrad = true
        let y = maxPool2d(x, kernel: 2, stride: 2)
        #expect(y.shape == [2, 3, 3, 20])
        var expectedGrad = [Float](repeating: 0, count: data.count)
        for plane in 0..<6 { for oy in 0..<3 { for ox in 0..<20 {
            var best = -Float.infinity, at = 0
            for ky in 0..<2 { for kx in 0..<2 {
                let i = plane * 246 + (2 * oy + ky) * 41 + 2 * ox + kx
                if data[i] > best || data[i].isNaN { best = data[i]; at = i }
            } }
            let got = y.storage[plane * 60 + oy * 20 + ox]
            #expect(got == best || (got.isNaN && best.isNaN), "window \(plane),\(oy),\(ox)")
            expectedGrad[at] += 1
        } } }
        y.backward()
        #expect(x.grad?.storage == expectedGrad)
    }

    @Test func outputSizesFollowPyTorchCeilRule() {
        // torch: MaxPool2d(3, 2, ceil_mode=True) on 8 -> 4 (windows start at 0, 2, 4, 6);
        // on 7 with padding 1 -> 4, not 5, because a window starting at 7 would begin in the right padding.
        #expect(poolOutputSize(8, kernel: 3, stride: 2, padding: 0, ceilMode: true) == 4)
        #expect(poolOutputSize(8, kernel: 3, stride: 2, padding: 0, ceilMode: false) == 3)
        #expect(poolOutputSize(6, kernel: 2, stride: 2, padding: 1, ceilMode: true) == 4)
        #expect(poolOutputSize(5, kernel: 2, stride: 2, padding: 1, ceilMode: true) == 3)
        #expect(poolOutputSize(55, kernel: 3, stride: 2, padding: 0, ceilMode: false) == 27)
    }

    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 2)
        // Distinct values keep the max away from ties, where finite differences are undefined.
        let x = Tensor(shape: [1, 2, 7, 6], storage: (0..<84).map { Float(($0 * 37) % 84) * 0.1 })
        expectGradientMatchesFiniteDifferences("maxPool2d 3/2 pad 1 ceil", at: x, eps: 1e-2) {
            maxPool2d($0, kernel: 3, stride: 2, padding: 1, ceilMode: true)
        }
        let y = Tensor.randomNormal(shape: [2, 1, 7, 8], using: &rng)
        expectGradientMatchesFiniteDifferences("avgPool2d exclude pad", at: y) {
            avgPool2d($0, kernel: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false)
        }
        expectGradientMatchesFiniteDifferences("adaptiveAvgPool2d 7x8 -> 3x5", at: y) {
            adaptiveAvgPool2d($0, outputSize: (3, 5))
        }
    }
}
