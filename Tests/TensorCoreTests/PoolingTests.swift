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
