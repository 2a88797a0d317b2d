import TestSupport
import Testing
@testable import TensorCore

/// The depthwise kernel (DepthwiseConv) against PyTorch (Scripts/fixtures/depthwise_ops.py), finite differences and
/// the generic grouped path; its determinism; and hardtanh/ReLU6.
@Suite struct DepthwiseConvTests {
    static func padding(_ p: [Int]) -> ConvPadding {
        p[0] == p[1] && p[2] == p[3] ? .explicit(p[0], p[2]) : .asymmetric(top: p[0], bottom: p[1], left: p[2], right: p[3])
    }

    static func depthwise(_ c: FixtureCase, _ t: [String: Tensor]) -> Tensor {
        let x = t["x"]!, w = t["weight"]!
        let pad = padding(c.ints("pad")), stride = c.int("stride"), groups = x.shape[1]
        return c.string("op") == "conv2dReLU"
            ? conv2dReLU(x, weight: w, bias: t["bias"], stride: stride, padding: pad, groups: groups)
            : conv2d(x, weight: w, bias: t["bias"], stride: stride, padding: pad, groups: groups)
    }

    static func cases(_ ops: Set<String>) throws -> [FixtureCase] {
        try loadFixtureCases("depthwise_ops.json").filter { ops.contains($0.string("op")) }
    }

    static func normal(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape: shape, mean: 0, std: std, using: &rng)
    }

    // MARK: Against PyTorch

    @Test func forwardAndEveryGradientMatchPyTorch() throws {
        let cases = try Self.cases(["conv2d", "conv2dReLU"])
        #expect(cases.count >= 13)
        for c in cases {
            let x = c.input("x")
            let g = try convGeometry(op: "conv2d", input: x.shape, weight: c.input("weight").shape, bias: nil,
                                     stride: c.int("stride"), padding: Self.padding(c.ints("pad")), dilation: 1,
                                     groups: x.shape[1])
            // Every case but the one-channel one must really exercise the fast kernel.
            #expect(DepthwiseConv.runs(layer: g) == (x.shape[1] > 1), "\(c.name)")
            checkFixtureCase(c) { Self.depthwise(c, $0) }
        }
    }

    @Test func inputGradientAloneMatchesPyTorch() throws {
        // The engine's contract: constant weights, only d/dx; the weights must get no gradient.
        for c in try Self.cases(["conv2d", "conv2dReLU"]) {
            let x = c.input("x"), w = c.input("weight")
            x.requiresGrad = true
            var t = ["x": x, "weight": w]
            if c.inputs["bias"] != nil { t["bias"] = c.input("bias") }
            let y = Self.depthwise(c, t)
            y.backward(seed: c.input("gy"))
            expectClose(x.grad ?? Tensor(zeros: [0]), c.grad("x"), atol: 2e-4, rtol: 2e-4, "\(c.name): d/dx alone")
            #expect(w.grad == nil, "\(c.name)")
        }
    }

    @Test func depthwiseTransposedConvolutionMatchesPyTorch() throws {
        let cases = try Self.cases(["convTranspose2d"])
        #expect(cases.count == 1)
        for c in cases {
            checkFixtureCase(c) { t in
                convTranspose2d(t["x"]!, weight: t["weight"]!, bias: t["bias"], stride: c.int("stride"),
                                padding: c.int("padding"), outputPadding: c.int("outputPadding"), groups: c.int("groups"))
            }
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        let x = Self.normal([2, 5, 7, 6], seed: 21)
        let w = Self.normal([5, 1, 3, 3], seed: 22), w5 = Self.normal([5, 1, 5, 5], seed: 23, std: 0.4)
        let b = Self.normal([5], seed: 24)
        let uneven = ConvPadding.asymmetric(top: 0, bottom: 1, left: 1, right: 0)
        expectGradientMatchesFiniteDifferences("depthwise k3 s2 uneven d/dx", at: x) {
            conv2d($0, weight: w, bias: b, stride: 2, padding: uneven, groups: 5)
        }
        expectGradientMatchesFiniteDifferences("depthwise k5 s1 ReLU d/dx", at: x, eps: 1e-3) {
            conv2dReLU($0, weight: w5, bias: b, padding: .asymmetric(top: 2, bottom: 1, left: 2, right: 3), groups: 5)
        }
        expectGradientMatchesFiniteDifferences("depthwise k5 s2 d/dweight", at: w5) {
            conv2d(x, weight: $0, bias: b, stride: 2, padding: .explicit(2, 2), groups: 5)
        }
        expectGradientMatchesFiniteDifferences("depthwise d/dbias", at: b) {
            conv2d(x, weight: w, bias: $0, stride: 2, padding: uneven, groups: 5)
        }
    }

    // MARK: Against the generic grouped path

    struct Shape: CustomStringConvertible, Sendable {
        var batch: Int, channels: Int, h: Int, w: Int, k: Int, stride: Int, pad: [Int]
        var description: String { "\(batch)x\(channels)x\(h)x\(w) k\(k) s\(stride) pad \(pad)" }
    }

    static let shapes: [Shape] = [
        Shape(batch: 3, channels: 32, h: 15, w: 17, k: 3, stride: 1, pad: [1, 1, 1, 1]),
        Shape(batch: 3, channels: 7, h: 14, w: 14, k: 3, stride: 2, pad: [0, 1, 0, 1]),
        Shape(batch: 1, channels: 32, h: 13, w: 11, k: 5, stride: 1, pad: [2, 2, 2, 2]),
        Shape(batch: 3, channels: 7, h: 15, w: 16, k: 5, stride: 2, pad: [2, 2, 1, 2]),
        Shape(batch: 2, channels: 16, h: 7, w: 7, k: 3, stride: 1, pad: [1, 1, 1, 1]),
        Shape(batch: 1, channels: 3, h: 9, w: 80, k: 5, stride: 1, pad: [0, 3, 4, 1]),
        Shape(batch: 2, channels: 4, h: 11, w: 12, k: 4, stride: 3, pad: [1, 2, 0, 1]),
        // Stride-2 rows of 32 and more take the vector deinterleave (fill) and interleave (d/dx), odd and even left pads.
        Shape(batch: 1, channels: 3, h: 5, w: 75, k: 3, stride: 2, pad: [1, 1, 1, 1]),
        Shape(batch: 2, channels: 2, h: 6, w: 70, k: 5, stride: 2, pad: [0, 1, 2, 1]),
    ]

    /// Output, d/dx and d/dweight of sum(y * seed), on the algorithm in force.
    static func run(_ s: Shape, relu: Bool, threads: Int = 2) -> (y: Tensor, dx: Tensor, dw: Tensor) {
        let x = normal([s.batch, s.channels, s.h, s.w], seed: 31)
        let w = normal([s.channels, 1, s.k, s.k], seed: 32, std: 1 / Float(s.k))
        let b = normal([s.channels], seed: 33, std: 0.1)
        x.requiresGrad = true
        w.requiresGrad = true
        return Parallel.withThreads(threads) {
            let pad = padding(s.pad)
            let y = relu ? conv2dReLU(x, weight: w, bias: b, stride: s.stride, padding: pad, groups: s.channels)
                         : conv2d(x, weight: w, bias: b, stride: s.stride, padding: pad, groups: s.channels)
            y.backward(seed: normal(y.shape, seed: 34))
            return (y, x.grad!, w.grad!)
        }
    }

    @Test("The fast path equals the generic grouped path: forward bit for bit, gradients within 1e-5", arguments: shapes)
    func fastPathEqualsGenericPath(_ s: Shape) {
        for relu in [false, true] {
            let fast = Self.run(s, relu: relu)
            let generic = ConvAlgorithm.with(.direct) { Self.run(s, relu: relu) }
            // Both compute 0 + w0·x0 + w1·x1 + ... as one fused chain in tap order, then + bias.
            #expect(BatchIndependenceTests.firstDifference(fast.y.storage, generic.y.storage) == nil, "\(s) relu \(relu)")
            expectClose(fast.dx, generic.dx, atol: 1e-5, rtol: 1e-5, "\(s) relu \(relu): d/dx")
            // d/dweight sums every output pixel of every image: allow for the longer sums.
            expectClose(fast.dw, generic.dw, atol: 1e-4, rtol: 1e-5, "\(s) relu \(relu): d/dweight")
        }
    }

    @Test func eligibility() throws {
        func geometry(_ x: [Int], _ w: [Int], stride: Int = 1, dilation: Int = 1, groups: Int) throws -> ConvGeometry {
            try convGeometry(op: "conv2d", input: x, weight: w, bias: nil, stride: stride, padding: .explicit(1, 1),
                             dilation: dilation, groups: groups)
        }
        #expect(DepthwiseConv.isEligible(layer: try geometry([1, 8, 9, 9], [8, 1, 3, 3], stride: 2, groups: 8)))
        // 1 -> 1 may be one filter of a restricted 1-channel layer: it keeps the generic path of the whole layer.
        #expect(!DepthwiseConv.isEligible(layer: try geometry([1, 1, 9, 9], [1, 1, 3, 3], groups: 1)))
        #expect(!DepthwiseConv.isEligible(layer: try geometry([1, 8, 9, 9], [8, 1, 3, 3], dilation: 2, groups: 8)))
        #expect(!DepthwiseConv.isEligible(layer: try geometry([1, 8, 9, 9], [16, 1, 3, 3], groups: 8)))   // multiplier 2
        #expect(!DepthwiseConv.isEligible(layer: try geometry([1, 8, 9, 9], [4, 2, 3, 3], groups: 4)))
        #expect(throws: ConvShapeError.negativePadding(op: "conv2d", height: -1, width: 0)) {
            try validateConv2d(input: [1, 8, 9, 9], weight: [8, 1, 3, 3], bias: nil,
                               padding: .asymmetric(top: 0, bottom: -1, left: 1, right: 0), groups: 8)
        }
        #expect(try validateConv2d(input: [1, 8, 112, 112], weight: [8, 1, 3, 3], bias: nil, stride: 2,
                                   padding: .asymmetric(top: 0, bottom: 1, left: 0, right: 1), groups: 8) == [1, 8, 56, 56])
    }

    // MARK: Determinism

    @Test("Image 0's output and input gradient have the same bits in batch 1 and batch 3, on 1, 2 or 3 threads",
          arguments: shapes)
    func sameBitsWhateverTheBatchAndThreads(_ s: Shape) {
        for relu in [false, true] {
            let per = s.channels * s.h * s.w
            let pool = Self.normal([3, s.channels, s.h, s.w], seed: 41)
            let w = Self.normal([s.channels, 1, s.k, s.k], seed: 42, std: 1 / Float(s.k))
            let b = Self.normal([s.channels], seed: 43, std: 0.1)
            func imageZero(batch: Int, threads: Int) -> (y: [Float], dx: [Float]) {
                let x = Tensor(shape: [batch, s.channels, s.h, s.w], storage: Array(pool.storage[0..<(batch * per)]))
                x.requiresGrad = true
                return Parallel.withThreads(threads) {
                    let pad = Self.padding(s.pad)
                    let y = relu ? conv2dReLU(x, weight: w, bias: b, stride: s.stride, padding: pad, groups: s.channels)
                                 : conv2d(x, weight: w, bias: b, stride: s.stride, padding: pad, groups: s.channels)
                    let out = y.count / batch
                    // The same seed for image 0 whatever the batch; the other images get their own.
                    let seed0 = Self.normal([out], seed: 44).storage
                    let rest = Self.normal([max(1, (batch - 1) * out)], seed: 45).storage.prefix((batch - 1) * out)
                    y.backward(seed: Tensor(shape: y.shape, storage: seed0 + rest))
                    return (Array(y.storage[0..<out]), Array(x.grad!.storage[0..<per]))
                }
            }
            let reference = imageZero(batch: 1, threads: 1)
            for (batch, threads) in [(1, 2), (3, 1), (3, 2), (3, 3), (2, 2)] {
                let other = imageZero(batch: batch, threads: threads)
                #expect(BatchIndependenceTests.firstDifference(reference.y, other.y) == nil,
                        "\(s) relu \(relu): output, batch \(batch), \(threads) threads")
                #expect(BatchIndependenceTests.firstDifference(reference.dx, other.dx) == nil,
                        "\(s) relu \(relu): d/dx, batch \(batch), \(threads) threads")
            }
        }
    }

    @Test func weightGradientIsTheSameOnAnyThreadCount() {
        let s = Self.shapes[3]
        let one = Self.run(s, relu: false, threads: 1), three = Self.run(s, relu: false, threads: 3)
        #expect(BatchIndependenceTests.firstDifference(one.dw.storage, three.dw.storage) == nil)
    }

    // MARK: hardtanh / ReLU6

    @Test func hardtanhMatchesPyTorchAtAndAroundTheBounds() throws {
        let cases = try Self.cases(["hardtanh"])
        #expect(cases.count == 4)
        for c in cases {
            let lo = Float(c.double("min")), hi = Float(c.double("max"))
            // Exact: clamping and a 0/1 gradient involve no rounding.
            checkFixtureCase(c) { hardtanh($0["x"]!, min: lo, max: hi) }
        }
    }

    @Test func hardtanhGradientIsStrictWhereClampsIsInclusive() {
        let x = Tensor(shape: [5], storage: [-1, 0, 3, 6, 7])
        x.requiresGrad = true
        let y = hardtanh(x, min: 0, max: 6)
        #expect(y.storage == [0, 0, 3, 6, 6])
        y.backward()
        #expect(x.grad?.storage == [0, 0, 1, 0, 0])
        let z = x.detached()
        z.requiresGrad = true
        clamp(z, min: 0, max: 6).backward()
        #expect(z.grad?.storage == [0, 1, 1, 1, 0])
    }
}
