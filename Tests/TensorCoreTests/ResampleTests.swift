import Foundation
import TestSupport
import Testing
@testable import TensorCore

@Suite struct ResampleTests {
    /// The op a case of resample.json names, applied to its inputs.
    private func apply(_ c: FixtureCase, _ t: [String: Tensor]) -> Tensor {
        let x = t["input"]!
        if c.name.hasPrefix("resize") {
            return resizeBilinear(x, height: c.int("height"), width: c.int("width"), antialias: c.bool("antialias"))
        }
        if c.name.hasPrefix("affine") {
            return affineResample(x, theta: t["theta"]!, outputSize: (c.int("height"), c.int("width")),
                                  padding: c.string("padding") == "border" ? .border : .zeros)
        }
        if c.name.hasPrefix("pad") {
            return pad(x, top: c.int("top"), bottom: c.int("bottom"), left: c.int("left"), right: c.int("right"),
                       mode: c.string("mode") == "reflect" ? .reflect : .constant, value: Float(c.double("value")))
        }
        if c.name.hasPrefix("blur") {
            return gaussianBlur(x, sigma: Float(c.double("sigma")), kernelSize: c.int("kernel"))
        }
        Issue.record("resample.json: no test for case \(c.name)")
        return x
    }

    // Weighted sums of a few O(1) values in float32; PyTorch sums in a different order (blur: one 2-D conv
    // instead of two passes; affine: its grid comes from a float matmul), so 2e-5 abs + 1e-4 rel.
    @Test func resizeAffinePadAndBlurMatchPyTorch() throws {
        let cases = try loadFixtureCases("resample.json")
        #expect(cases.count == 14)
        for c in cases {
            runOpFixture(c, atol: 2e-5, rtol: 1e-4) { (t: [String: Tensor]) -> Tensor in apply(c, t) }
        }
    }

    @Test func bilinearUpscaleByHand() {
        // F.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode="bilinear")
        let x = Tensor(shape: [1, 1, 2, 2], storage: [1, 2, 3, 4])
        let expected: [Float] = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]
        #expect(resizeBilinear(x, height: 4, width: 4).storage == expected)
        // Same size is the identity, with or without antialiasing.
        #expect(resizeBilinear(x, height: 2, width: 2, antialias: true).storage == x.storage)
    }

    /// Values 0..<16 in a 4x4 image.
    private let ramp = Tensor(shape: [1, 1, 4, 4], storage: (0..<16).map { Float($0) })

    @Test func affineThetaRotatesTranslatesAndScalesAboutTheCentre() {
        // A 90° counter-clockwise rotation is torch.rot90(x, 1, (2, 3)): out[i][j] = in[j][3 - i].
        let theta90 = affineTheta(degrees: 90, inputSize: (4, 4))
        let rotated = affineResample(ramp, matrices: [theta90])
        let rot90 = (0..<16).map { (k: Int) -> Float in
            let value: Int = (k % 4) * 4 + (3 - k / 4)
            return Float(value)
        }
        expectClose(rotated, Tensor(shape: [1, 1, 4, 4], storage: rot90), atol: 1e-5, rtol: 0, "rotate 90")
        // Shifting one pixel right: out[i][j] = in[i][j-1], zeros enter at the left.
        let shifted = affineResample(ramp, matrices: [affineTheta(translation: (1, 0), inputSize: (4, 4))])
        let shift = (0..<16).map { (k: Int) -> Float in k % 4 == 0 ? 0 : Float(k - 1) }
        expectClose(shifted, Tensor(shape: [1, 1, 4, 4], storage: shift), atol: 1e-5, rtol: 0, "shift right")
        // Scaling by 2 about the centre: output pixel centre 1.5 reads input 1.5 + (1.5 - 1.5)/2, and pixel
        // centre 0 (x = 0.5 px from the edge) reads input position 1.25 (= 1.0 px index + 0.25): row 1.25.
        let zoomed = affineResample(ramp, matrices: [affineTheta(scale: 2, inputSize: (4, 4))])
        // Sample index = 1.5 + (j - 1.5) / 2 -> [0.75, 1.25, 1.75, 2.25]; value = 4 * row + col.
        let pos: [Float] = [0.75, 1.25, 1.75, 2.25]
        let zoom = (0..<16).map { (k: Int) -> Float in
            let row: Float = pos[k / 4], col: Float = pos[k % 4]
            return 4 * row + col
        }
        expectClose(zoomed, Tensor(shape: [1, 1, 4, 4], storage: zoom), atol: 1e-5, rtol: 0, "zoom 2x")
        // The identity theta reproduces the image; border padding reads the edge outside.
        expectClose(affineResample(ramp, matrices: [[1, 0, 0, 0, 1, 0]]), ramp, atol: 1e-5, rtol: 0, "identity")
        let farRight = affineResample(ramp, matrices: [[1, 0, 5, 0, 1, 0]], padding: .border)
        let edge = (0..<16).map { (k: Int) -> Float in
            let value: Int = (k / 4) * 4 + 3
            return Float(value)
        }
        expectClose(farRight, Tensor(shape: [1, 1, 4, 4], storage: edge), atol: 1e-5, rtol: 0, "border padding")
    }

    // All four ops are linear in the image, so centred differences are exact but for float32 rounding:
    // 1% of the largest gradient.
    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 21)
        let x = Tensor.randomNormal(shape: [2, 2, 7, 9], using: &rng)
        expectGradientMatchesFiniteDifferences("resize up", at: x, tolerance: 1e-2) { resizeBilinear($0, height: 10, width: 13) }
        expectGradientMatchesFiniteDifferences("resize down", at: x, tolerance: 1e-2) { resizeBilinear($0, height: 3, width: 4) }
        expectGradientMatchesFiniteDifferences("resize down aa", at: x, tolerance: 1e-2) {
            resizeBilinear($0, height: 3, width: 4, antialias: true)
        }
        let thetas = [affineTheta(degrees: 30, scale: 1.2, translation: (1, -0.5), inputSize: (7, 9)),
                      affineTheta(degrees: -75, scale: 0.8, inputSize: (7, 9), outputSize: (6, 8))]
        expectGradientMatchesFiniteDifferences("affine zeros", at: x, tolerance: 1e-2) {
            affineResample($0, matrices: thetas, outputSize: (6, 8))
        }
        expectGradientMatchesFiniteDifferences("affine border", at: x, tolerance: 1e-2) {
            affineResample($0, matrices: thetas, outputSize: (6, 8), padding: .border)
        }
        expectGradientMatchesFiniteDifferences("pad reflect", at: x, tolerance: 1e-2) {
            pad($0, top: 2, bottom: 1, left: 3, right: 0, mode: .reflect)
        }
        expectGradientMatchesFiniteDifferences("pad constant", at: x, tolerance: 1e-2) {
            pad($0, top: 0, bottom: 2, left: 1, right: 1, value: 3)
        }
        expectGradientMatchesFiniteDifferences("blur", at: x, tolerance: 1e-2) { gaussianBlur($0, sigma: 1, kernelSize: 5) }
    }

    @Test func parallelResultsAreBitIdentical() {
        var rng = SeededGenerator(seed: 8)
        let x = Tensor.randomNormal(shape: [2, 3, 40, 36], using: &rng)
        let seed = Tensor.randomNormal(shape: [2, 3, 40, 36], using: &rng)
        let thetas = [affineTheta(degrees: 10, scale: 1.1, inputSize: (40, 36)), affineTheta(degrees: -5, inputSize: (40, 36))]
        func run() -> [[Float]] {
            let leaf = x.detached(); leaf.requiresGrad = true
            let small = resizeBilinear(leaf, height: 17, width: 23, antialias: true)
            let y = gaussianBlur(affineResample(resizeBilinear(small, height: 40, width: 36), matrices: thetas), sigma: 1.5)
            let padded = pad(y, top: 3, bottom: 3, left: 3, right: 3, mode: .reflect)
            let out = slice(slice(padded, axis: 2, range: 3..<43), axis: 3, range: 3..<39)
            out.backward(seed: seed)
            return [out.storage, leaf.grad!.storage]
        }
        let one = Parallel.withThreads(1) { run() }
        let two = Parallel.withThreads(2) { run() }
        #expect(one == two)
    }

    /// Prints single-thread CPU time per 3x224x224 image for each op, forward and backward.
    @Test func timing224() {
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.randomNormal(shape: [1, 3, 224, 224], using: &rng)
        let theta = [affineTheta(degrees: 5, scale: 1.05, translation: (3, -2), inputSize: (224, 224))]
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("resize->250", { resizeBilinear($0, height: 250, width: 250) }),
            ("resize aa->128", { resizeBilinear($0, height: 128, width: 128, antialias: true) }),
            ("affine", { affineResample($0, matrices: theta) }),
            ("blur k7", { gaussianBlur($0, sigma: 1, kernelSize: 7) }),
            ("pad reflect 16", { pad($0, top: 16, bottom: 16, left: 16, right: 16, mode: .reflect) }),
        ]
        let reps = 10
        Parallel.withThreads(1) {
            for (name, op) in ops {
                let leaf = x.detached(); leaf.requiresGrad = true
                var y = op(leaf)
                let forward = threadCPUSeconds { for _ in 0..<reps { y = op(leaf) } } / Double(reps)
                let seed = Tensor(repeating: 1, shape: y.shape)
                let backward = threadCPUSeconds { for _ in 0..<reps { op(leaf).backward(seed: seed) } } / Double(reps) - forward
                print(String(format: "Resample timing 3x224x224, 1 thread CPU: %@ forward %.3f ms, backward %.3f ms", name, forward * 1e3, backward * 1e3))
            }
        }
    }
}
