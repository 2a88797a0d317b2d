import Foundation
import TestSupport
import Testing
@testable import TensorCore

@Suite struct FFTTests {
    // PyTorch uses pocketfft in float32; our Stockham FFT also runs in float32 with double-precision
    // twiddles. Outputs are sums of up to H*W O(1) terms, so allow 2e-5 absolute per unit of magnitude
    // plus 1e-4 relative.
    @Test func rfft2AndIrfft2MatchPyTorchValuesAndGradients() throws {
        let cases = try loadFixtureCases("fft.json")
        #expect(cases.count == 9)
        for c in cases {
            runOpFixture(c, atol: 1e-4, rtol: 1e-4) { (t: [String: Tensor]) -> Tensor in
                let x = t["input"]!
                if c.name.hasPrefix("rfft2") { return rfft2(x) }
                let h = c.int("height"), w = c.int("width")
                if c.name.hasPrefix("irfft2_then") { return rfft2(square(irfft2(x, height: h, width: w))) }
                return irfft2(x, height: h, width: w)
            }
        }
    }

    @Test func smallTransformsByHand() {
        // torch.fft.rfft2(torch.tensor([[1., 2., 3.]])) = [[6+0j, -1.5+0.866j]]
        let y = rfft2(Tensor(shape: [1, 3], storage: [1, 2, 3]))
        #expect(y.shape == [1, 2, 2])
        let expected: [Float] = [6, 0, -1.5, 0.8660254]
        for i in 0..<4 { #expect(Swift.abs(y.storage[i] - expected[i]) < 1e-6) }
        // A unit impulse has a flat spectrum; irfft2 of a flat spectrum (value H*W) is the impulse again.
        var impulse = [Float](repeating: 0, count: 5 * 6); impulse[0] = 1
        let spectrum = rfft2(Tensor(shape: [5, 6], storage: impulse))
        #expect(spectrum.storage.enumerated().allSatisfy { $0.offset % 2 == 1 ? $0.element == 0 : $0.element == 1 })
        let back = irfft2(spectrum, height: 5, width: 6)
        #expect(back.storage.enumerated().allSatisfy { Swift.abs($0.element - ($0.offset == 0 ? 1 : 0)) < 1e-6 })
    }

    /// The naive O(N²) 2-D DFT in double, for checking sizes with awkward factors.
    private func naiveRfft2(_ x: [Float], h: Int, w: Int) -> [Float] {
        let wf = w / 2 + 1
        var out = [Float](repeating: 0, count: h * wf * 2)
        for u in 0..<h {
            for v in 0..<wf {
                var re = 0.0, im = 0.0
                for i in 0..<h {
                    for j in 0..<w {
                        let a = -2 * Double.pi * (Double(u * i) / Double(h) + Double(v * j) / Double(w))
                        re += Double(x[i * w + j]) * cos(a); im += Double(x[i * w + j]) * sin(a)
                    }
                }
                out[(u * wf + v) * 2] = Float(re); out[(u * wf + v) * 2 + 1] = Float(im)
            }
        }
        return out
    }

    // Mixed radices (4, 2, 3, 5, 7, 11, 13 and a prime 37) against a double-precision DFT; round trips must
    // return the input. Tolerance scales with sqrt(H*W) (random-walk float32 rounding of the sums).
    @Test(arguments: [(8, 16), (12, 10), (7, 11), (13, 14), (37, 6), (1, 9), (4, 1)])
    func anySizeMatchesNaiveDFTAndRoundTrips(_ size: (Int, Int)) {
        let (h, w) = size
        var rng = SeededGenerator(seed: UInt64(h * 100 + w))
        let x = Tensor.randomNormal(shape: [h, w], using: &rng)
        let tol = 2e-6 * Float(h * w)
        expectClose(rfft2(x), Tensor(shape: [h, w / 2 + 1, 2], storage: naiveRfft2(x.storage, h: h, w: w)),
                    atol: tol, rtol: 0, "rfft2 \(h)x\(w) vs naive DFT")
        expectClose(irfft2(rfft2(x), height: h, width: w), x, atol: 1e-5, rtol: 0, "round trip \(h)x\(w)")
    }

    // Linear ops: finite differences are exact up to float32 rounding, so 1% of the largest gradient.
    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 11)
        let x = Tensor.randomNormal(shape: [2, 5, 6], using: &rng)
        expectGradientMatchesFiniteDifferences("rfft2 even W", at: x, tolerance: 1e-2) { rfft2($0) }
        let odd = Tensor.randomNormal(shape: [1, 4, 7], using: &rng)
        expectGradientMatchesFiniteDifferences("rfft2 odd W", at: odd, tolerance: 1e-2) { rfft2($0) }
        let spec = Tensor.randomNormal(shape: [2, 5, 4, 2], using: &rng)
        expectGradientMatchesFiniteDifferences("irfft2 W=6", at: spec, tolerance: 1e-2) { irfft2($0, height: 5, width: 6) }
        expectGradientMatchesFiniteDifferences("irfft2 W=7", at: spec, tolerance: 1e-2) { irfft2($0, height: 5, width: 7) }
    }

    @Test func parallelResultsAreBitIdentical() {
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.randomNormal(shape: [2, 3, 20, 18], using: &rng)
        let one = Parallel.withThreads(1) { irfft2(rfft2(x), height: 20, width: 18).storage }
        let two = Parallel.withThreads(2) { irfft2(rfft2(x), height: 20, width: 18).storage }
        #expect(one == two)
    }

    /// Prints the single-thread CPU time per 3x224x224 rfft2 / irfft2 (CPU time, not wall time: the build
    /// machine is shared, and CPU time of one thread is what the kernels cost).
    @Test func timing224() {
        var rng = SeededGenerator(seed: 9)
        let x = Tensor.randomNormal(shape: [1, 3, 224, 224], using: &rng)
        var spec = rfft2(x)
        let reps = 20
        Parallel.withThreads(1) {
            let forward = threadCPUSeconds { for _ in 0..<reps { spec = rfft2(x) } } / Double(reps)
            let inverse = threadCPUSeconds { for _ in 0..<reps { _ = irfft2(spec, height: 224, width: 224) } } / Double(reps)
            print(String(format: "FFT timing 3x224x224, 1 thread CPU: rfft2 %.3f ms, irfft2 %.3f ms", forward * 1e3, inverse * 1e3))
            // 227 is prime: one generic radix-227 stage, O(227) work per element.
            let prime = Tensor.randomNormal(shape: [1, 3, 227, 227], using: &rng)
            let forward227 = threadCPUSeconds { _ = rfft2(prime) }
            print(String(format: "FFT timing 3x227x227, 1 thread CPU: rfft2 %.3f ms", forward227 * 1e3))
        }
        #expect(spec.shape == [1, 3, 224, 113, 2])
    }
}

/// CPU seconds the calling thread spends in `body` (robust to other processes sharing the cores).
func threadCPUSeconds(_ body: () -> Void) -> Double {
    func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
    let start = now()
    body()
    return now() - start
}
