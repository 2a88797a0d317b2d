import TestSupport
import Testing
@testable import TensorCore

/// The Winograd F(2x2, 3x3) path against the direct convolution (itself checked against PyTorch in
/// ConvolutionTests, where the "winograd ..." fixture cases run this path too).
@Suite(.serialized) struct WinogradTests {
    /// Integers in -3...3: every transform value is a multiple of 1/4 and every sum stays far below 2^24, so the
    /// Winograd result is exact and must equal the direct sum bit for bit (a wrong index cannot hide in rounding).
    static func integers(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float(Int(rng.next() % 7) - 3) })
    }

    static func normal(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape: shape, mean: 0, std: scale, using: &rng)
    }

    struct Shape: CustomStringConvertible, Sendable {
        var batch: Int, channels: Int, outputs: Int, height: Int, width: Int, pad: Int
        var description: String { "\(batch)x\(channels)x\(height)x\(width) -> \(outputs), pad \(pad)" }
        var geometry: ConvGeometry {
            ConvGeometry(batch: batch, inChannels: channels, inH: height, inW: width, outChannels: outputs, kh: 3, kw: 3,
                         stride: 1, dilation: 1, groups: 1, padTop: pad, padLeft: pad,
                         outH: height + 2 * pad - 2, outW: width + 2 * pad - 2)
        }
    }

    /// Odd and even outputs, one-tile images, several tile rows and images per block, 2+ channel blocks
    /// (GEMM.kc = 128), output channels that end mid-panel.
    static let shapes: [Shape] = [
        Shape(batch: 1, channels: 16, outputs: 16, height: 4, width: 4, pad: 0),
        Shape(batch: 2, channels: 17, outputs: 19, height: 9, width: 11, pad: 1),
        Shape(batch: 3, channels: 32, outputs: 24, height: 14, width: 14, pad: 1),
        Shape(batch: 1, channels: 20, outputs: 33, height: 35, width: 37, pad: 1),
        Shape(batch: 2, channels: 140, outputs: 18, height: 13, width: 13, pad: 1),
        Shape(batch: 1, channels: 24, outputs: 16, height: 5, width: 3, pad: 2),
        Shape(batch: 5, channels: 16, outputs: 40, height: 4, width: 70, pad: 0),
        // 5 output panels over 2 tile blocks on 2 threads: 4 chunks of 2 panels, the last one empty (once a crash).
        Shape(batch: 1, channels: 16, outputs: 40, height: 14, width: 14, pad: 1),
    ]

    func convolve(_ x: Tensor, _ w: Tensor, _ b: Tensor?, pad: Int, relu: Bool, _ algorithm: ConvAlgorithm,
                  identity: WeightsIdentity? = nil) -> Tensor {
        ConvAlgorithm.with(algorithm) {
            relu ? conv2dReLU(x, weight: w, bias: b, padding: .explicit(pad, pad), weightsIdentity: identity)
                 : conv2d(x, weight: w, bias: b, padding: .explicit(pad, pad), weightsIdentity: identity)
        }
    }

    /// Few output channels: what the engine's restricted last conv computes (a batch's filters, 1 to 15 of them),
    /// forward and, through the flipped convolution, with that few input channels in the input gradient.
    static let fewOutputShapes: [Shape] = [
        Shape(batch: 1, channels: 16, outputs: 1, height: 6, width: 7, pad: 1),
        Shape(batch: 3, channels: 20, outputs: 5, height: 9, width: 9, pad: 1),
        Shape(batch: 2, channels: 64, outputs: 15, height: 14, width: 14, pad: 1),
    ]

    @Test("Every test shape takes the Winograd path", arguments: shapes + fewOutputShapes)
    func shapesAreEligible(_ s: Shape) {
        #expect(Winograd.isEligible(layer: s.geometry))
        #expect(Winograd.canCompute(ConvKernels.flippedGeometry(s.geometry)))
        #expect(ConvKernels.inputGradIsFlippedConv(s.geometry), "its input gradient is the flipped Winograd conv")
    }

    @Test("The path is the layer's: never a function of the output channel count or the batch")
    func dispatchIgnoresOutputChannelsAndBatch() {
        for outputs in [1, 2, 7, 8, 15, 16, 64, 512] {
            for batch in [1, 5, 16] {
                let s = Shape(batch: batch, channels: 64, outputs: outputs, height: 14, width: 14, pad: 1)
                #expect(Winograd.isEligible(layer: s.geometry), "\(s)")
                let few = Shape(batch: batch, channels: 3, outputs: outputs, height: 14, width: 14, pad: 1)
                #expect(!Winograd.isEligible(layer: few.geometry), "\(few): 3 input channels stay direct")
            }
        }
    }

    @Test("Small integers: Winograd equals the direct convolution exactly, forward and d/dx", arguments: shapes + fewOutputShapes)
    func exactOnIntegers(_ s: Shape) {
        let x = Self.integers([s.batch, s.channels, s.height, s.width], seed: 1)
        let w = Self.integers([s.outputs, s.channels, 3, 3], seed: 2)
        let b = Self.integers([s.outputs], seed: 3)
        let gy = Self.integers(s.geometry.outputShape, seed: 4)
        var results: [ConvAlgorithm: (Tensor, Tensor)] = [:]
        for algorithm in [ConvAlgorithm.automatic, .direct] {
            let xv = x.detached()
            xv.requiresGrad = true
            let y = convolve(xv, w, b, pad: s.pad, relu: false, algorithm)
            ConvAlgorithm.with(algorithm) { y.backward(seed: gy) }
            results[algorithm] = (y, xv.grad!)
        }
        #expect(results[.automatic]!.0.storage == results[.direct]!.0.storage, "forward \(s)")
        #expect(results[.automatic]!.1.storage == results[.direct]!.1.storage, "d/dx \(s)")
    }

    @Test("Normal data: within float rounding of the direct convolution, with bias and ReLU", arguments: shapes)
    func closeOnNormalData(_ s: Shape) {
        let x = Self.normal([s.batch, s.channels, s.height, s.width], seed: 5)
        let w = Self.normal([s.outputs, s.channels, 3, 3], seed: 6, scale: 1 / Float(3 * s.channels).squareRoot())
        let b = Self.normal([s.outputs], seed: 7)
        let winograd = convolve(x, w, b, pad: s.pad, relu: true, .automatic)
        let direct = convolve(x, w, b, pad: s.pad, relu: true, .direct)
        // Outputs are O(1); both sums have 9 C terms of that size, so a few ulps of 1 apart.
        expectClose(winograd, direct, atol: 2e-5, rtol: 1e-5, "\(s)")
    }

    @Test("Bit-identical on 1 and 2 threads", arguments: [shapes[1], shapes[3], shapes[4]])
    func sameBitsOnAnyThreadCount(_ s: Shape) {
        let x = Self.normal([s.batch, s.channels, s.height, s.width], seed: 8)
        let w = Self.normal([s.outputs, s.channels, 3, 3], seed: 9, scale: 0.1)
        let gy = Self.normal(s.geometry.outputShape, seed: 10)
        func run(_ threads: Int) -> ([Float], [Float]) {
            Parallel.withThreads(threads) {
                let xv = x.detached()
                xv.requiresGrad = true
                let y = conv2dReLU(xv, weight: w, padding: .explicit(s.pad, s.pad))
                y.backward(seed: gy)
                return (y.storage, xv.grad!.storage)
            }
        }
        let one = run(1), two = run(2), three = run(3)
        #expect(one.0 == two.0 && one.0 == three.0, "forward \(s)")
        #expect(one.1 == two.1 && one.1 == three.1, "d/dx \(s)")
    }

    @Test("The cache is keyed by the owner's identity: each identity its own entry, the same bits as no cache")
    func cacheFollowsTheIdentity() {
        let s = Self.shapes[1]
        let x = Self.integers([s.batch, s.channels, s.height, s.width], seed: 11)
        let w = Self.integers([s.outputs, s.channels, 3, 3], seed: 12)
        let other = Self.integers([s.outputs, s.channels, 3, 3], seed: 13)
        let mine = WeightsIdentity(owner: WeightsIdentity.newOwner(), parameter: "w")
        let theirs = WeightsIdentity(owner: WeightsIdentity.newOwner(), parameter: "w")
        func cached(_ id: WeightsIdentity) -> Bool {
            TransformedWeightCache.contains(id, outputs: s.outputs, channels: s.channels, flipped: false)
        }
        func run(_ w: Tensor, _ id: WeightsIdentity?) -> [Float] {
            ConvAlgorithm.with(.automatic) { conv2d(x, weight: w, padding: .explicit(1, 1), weightsIdentity: id).storage }
        }
        let anonymous = run(w, nil)
        #expect(!cached(mine))
        #expect(run(w, mine) == anonymous)
        #expect(cached(mine))
        #expect(run(w, mine) == anonymous, "a hit gives the same bits as a fresh transform")
        // Another owner's weights with the same name and shape get their own entry, never this one.
        #expect(!cached(theirs))
        let theirResult = run(other, theirs)
        #expect(cached(theirs))
        #expect(theirResult != anonymous)
        #expect(theirResult == run(other, nil))
        #expect(theirResult == ConvAlgorithm.with(.direct) { conv2d(x, weight: other, padding: .explicit(1, 1)).storage })
    }

    @Test("With a zero budget nothing is cached and the results are the same")
    func zeroBudgetCachesNothing() {
        let s = Self.shapes[2]
        let x = Self.normal([s.batch, s.channels, s.height, s.width], seed: 13)
        let w = Self.normal([s.outputs, s.channels, 3, 3], seed: 14, scale: 0.1)
        let id = WeightsIdentity(owner: WeightsIdentity.newOwner(), parameter: "w")
        let uncached = ComputeSettings.with({ $0.transformCacheBytes = 0 }) {
            convolve(x, w, nil, pad: 1, relu: true, .automatic, identity: id)
        }
        #expect(!TransformedWeightCache.contains(id, outputs: s.outputs, channels: s.channels, flipped: false))
        let cached = convolve(x, w, nil, pad: 1, relu: true, .automatic, identity: id)
        #expect(TransformedWeightCache.contains(id, outputs: s.outputs, channels: s.channels, flipped: false))
        #expect(uncached.storage == cached.storage)
    }
}
