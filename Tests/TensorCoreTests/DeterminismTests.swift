import Testing
@testable import TensorCore

/// Kernels split work by output and sum in a fixed order, so 1 and 2 threads must give identical bits.
@Suite struct DeterminismTests {
    /// Forward and gradients (input, weight, bias) of `f` on 1 thread and on 2 threads.
    func run(threads: Int, _ x0: Tensor, _ params: [Tensor], _ f: (Tensor, [Tensor]) -> Tensor) -> [[Float]] {
        Parallel.withThreads(threads) {
            let x = x0.detached(); x.requiresGrad = true
            let ps = params.map { p -> Tensor in let q = p.detached(); q.requiresGrad = true; return q }
            let y = f(x, ps)
            var rng = SeededGenerator(seed: 1)
            y.backward(seed: Tensor.randomNormal(shape: y.shape, using: &rng))
            return [y.storage, x.grad!.storage] + ps.map { $0.grad!.storage }
        }
    }

    func expectSameOnOneAndTwoThreads(_ what: String, _ x: Tensor, _ params: [Tensor], _ f: (Tensor, [Tensor]) -> Tensor) {
        let one = run(threads: 1, x, params, f), two = run(threads: 2, x, params, f)
        for (i, (a, b)) in zip(one, two).enumerated() {
            #expect(a == b, "\(what): result \(i) (0 = forward, 1 = d/dx, then parameters) differs between 1 and 2 threads")
        }
    }

    @Test func vggLikeConvolutionsAndPools() {
        var rng = SeededGenerator(seed: 21)
        // VGG-like: 3x3 pad 1, 64 -> 128 channels, batch 2, 28x28 (pixel blocks, strips across images).
        let x = Tensor.randomNormal(shape: [2, 64, 28, 28], using: &rng)
        let w = Tensor.randomNormal(shape: [128, 64, 3, 3], using: &rng).mapValues { $0 * 0.05 }
        let b = Tensor.randomNormal(shape: [128], using: &rng)
        expectSameOnOneAndTwoThreads("conv2dReLU + maxPool", x, [w, b]) { x, p in
            maxPool2d(conv2dReLU(x, weight: p[0], bias: p[1], padding: .explicit(1, 1)), kernel: 2, stride: 2)
        }
        // Deep layer at batch 1: few pixels, so the output channels are split across threads.
        let x5 = Tensor.randomNormal(shape: [1, 256, 14, 14], using: &rng)
        let w5 = Tensor.randomNormal(shape: [256, 256, 3, 3], using: &rng).mapValues { $0 * 0.03 }
        expectSameOnOneAndTwoThreads("conv2d 14x14", x5, [w5]) { x, p in conv2d(x, weight: p[0], padding: .same) }
    }

    @Test func stridedConvolutionAndOverlappingPools() {
        var rng = SeededGenerator(seed: 22)
        // AlexNet-like conv1 (stride 4, col2im input gradient) and 3/2 pools, average and adaptive pools.
        let x = Tensor.randomNormal(shape: [2, 3, 63, 63], using: &rng)
        let w = Tensor.randomNormal(shape: [16, 3, 11, 11], using: &rng).mapValues { $0 * 0.1 }
        expectSameOnOneAndTwoThreads("conv stride 4 + maxPool 3/2 + avgPool + adaptive", x, [w]) { x, p in
            let h = maxPool2d(conv2dReLU(x, weight: p[0], stride: 4, padding: .explicit(2, 2)), kernel: 3, stride: 2)
            return adaptiveAvgPool2d(avgPool2d(h, kernel: 2, stride: 1, padding: 1), outputSize: (3, 3))
        }
        let t = Tensor.randomNormal(shape: [2, 32, 9, 9], using: &rng)
        let wt = Tensor.randomNormal(shape: [32, 16, 3, 3], using: &rng)
        expectSameOnOneAndTwoThreads("convTranspose2d stride 2", t, [wt]) { x, p in
            convTranspose2d(x, weight: p[0], stride: 2, padding: 1, outputPadding: 1)
        }
        let l = Tensor.randomNormal(shape: [20, 300], using: &rng)
        let wl = Tensor.randomNormal(shape: [70, 300], using: &rng)
        expectSameOnOneAndTwoThreads("linear batch 20 (GEMM path)", l, [wl]) { x, p in linear(x, weight: p[0]) }
    }
}
