import TestSupport
import Testing
@testable import TensorCore

/// Runs one fixture case of Scripts/fixtures/conv_ops.py: the op on the fixture inputs (each requiring a
/// gradient), backward with the fixture's upstream gradient, and every result compared with PyTorch's.
///
/// Tolerance: atol 2e-4 + rtol 2e-4. Inputs are O(1) and sums have up to a few hundred terms; PyTorch
/// (oneDNN/MKL) adds them in another order, so float32 results differ by a few ulps of the sum's magnitude.
func checkFixtureCase(_ c: FixtureCase, sourceLocation: SourceLocation = #_sourceLocation,
                      _ op: ([String: Tensor]) -> Tensor) {
    var leaves: [String: Tensor] = [:]
    for key in c.inputs.keys where key != "gy" {
        let t = c.input(key)
        t.requiresGrad = true
        leaves[key] = t
    }
    let out = op(leaves)
    expectClose(out, c.output(), atol: 2e-4, rtol: 2e-4, "\(c.name): forward", sourceLocation: sourceLocation)
    out.backward(seed: c.input("gy"))
    for (key, leaf) in leaves {
        guard let grad = leaf.grad else {
            Issue.record("\(c.name): no gradient for \(key)", sourceLocation: sourceLocation)
            continue
        }
        expectClose(grad, c.grad(key), atol: 2e-4, rtol: 2e-4, "\(c.name): d/d\(key)", sourceLocation: sourceLocation)
    }
}

func fixtureCases(op names: Set<String>) throws -> [FixtureCase] {
    try loadFixtureCases("conv_ops.json").filter { names.contains($0.string("op")) }
}

@Suite struct ConvolutionTests {
    func padding(_ c: FixtureCase) -> ConvPadding {
        switch c.string("padding") {
        case "same": return .same
        case "explicit": let p = c.ints("pad"); return .explicit(p[0], p[1])
        default: return .valid
        }
    }

    @Test func conv2dMatchesPyTorch() throws {
        let cases = try fixtureCases(op: ["conv2d", "conv2dReLU"])
        #expect(cases.count >= 15)
        for c in cases {
            let relu = c.string("op") == "conv2dReLU"
            checkFixtureCase(c) { t in
                let args = (stride: c.int("stride"), dilation: c.int("dilation"), groups: c.int("groups"))
                return relu
                    ? conv2dReLU(t["x"]!, weight: t["weight"]!, bias: t["bias"], stride: args.stride, padding: padding(c),
                                 dilation: args.dilation, groups: args.groups)
                    : conv2d(t["x"]!, weight: t["weight"]!, bias: t["bias"], stride: args.stride, padding: padding(c),
                             dilation: args.dilation, groups: args.groups)
            }
        }
    }

    @Test func convTranspose2dMatchesPyTorch() throws {
        let cases = try fixtureCases(op: ["convTranspose2d"])
        #expect(cases.count >= 5)
        for c in cases {
            checkFixtureCase(c) { t in
                convTranspose2d(t["x"]!, weight: t["weight"]!, bias: t["bias"], stride: c.int("stride"),
                                padding: c.int("padding"), outputPadding: c.int("outputPadding"),
                                dilation: c.int("dilation"), groups: c.int("groups"))
            }
        }
    }

    /// Direct six-loop convolution in Double: an independent reference for shapes the fixtures do not cover.
    func naiveConv(_ x: Tensor, _ w: Tensor, stride: Int, pad: (Int, Int), dilation: Int, groups: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = (h + 2 * pad.0 - dilation * (kh - 1) - 1) / stride + 1
        let ow = (wd + 2 * pad.1 - dilation * (kw - 1) - 1) / stride + 1
        let og = o / groups
        var out = [Float](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n { for oc in 0..<o { for y in 0..<oh { for xx in 0..<ow {
            var s = 0.0
            let g = oc / og
            for ci in 0..<cg { for ky in 0..<kh { for kx in 0..<kw {
                let iy = y * stride - pad.0 + ky * dilation, ix = xx * stride - pad.1 + kx * dilation
                if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                s += Double(x.storage[((b * c + g * cg + ci) * h + iy) * wd + ix]) * Double(w.storage[((oc * cg + ci) * kh + ky) * kw + kx])
            } } }
            out[((b * o + oc) * oh + y) * ow + xx] = Float(s)
        } } } }
        _ = c
        return Tensor(shape: [n, o, oh, ow], storage: out)
    }

    @Test(arguments: [
        // (C, O, H, W, k, stride, pad, dilation, groups): wide rows, many k blocks, ragged tiles.
        [64, 24, 13, 37, 3, 1, 1, 1, 1], [40, 17, 30, 9, 3, 2, 1, 1, 1], [3, 64, 25, 25, 11, 4, 2, 1, 1],
        [32, 32, 12, 12, 3, 1, 2, 2, 2], [300, 9, 5, 5, 1, 1, 0, 1, 1],
        // rows of 21 and 38 outputs at strides 4 and 2: the 16-wide strided gathers and their scalar tails
        [3, 16, 9, 90, 11, 4, 2, 1, 1], [5, 8, 7, 75, 3, 2, 1, 1, 1],
    ])
    func conv2dMatchesDirectLoopsOnLargerShapes(_ p: [Int]) {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.randomNormal(shape: [2, p[0], p[2], p[3]], using: &rng)
        let w = Tensor.randomNormal(shape: [p[1], p[0] / p[8], p[4], p[4]], using: &rng)
        let y = conv2d(x, weight: w, stride: p[5], padding: .explicit(p[6], p[6]), dilation: p[7], groups: p[8])
        // Sums of up to 576 products of N(0,1) values: float32 rounding stays below 1e-3 absolute.
        expectClose(y, naiveConv(x, w, stride: p[5], pad: (p[6], p[6]), dilation: p[7], groups: p[8]), atol: 1e-3, rtol: 1e-4,
                    "conv2d \(p)")
    }

    @Test func gradientsMatchFiniteDifferences() {
        var rng = SeededGenerator(seed: 11)
        let x = Tensor.randomNormal(shape: [2, 4, 6, 5], using: &rng)
        let w = Tensor.randomNormal(shape: [6, 2, 3, 3], using: &rng)
        let b = Tensor.randomNormal(shape: [6], using: &rng)
        expectGradientMatchesFiniteDifferences("conv2d d/dx strided grouped", at: x) {
            conv2d($0, weight: w, bias: b, stride: 2, padding: .explicit(1, 1), groups: 2)
        }
        expectGradientMatchesFiniteDifferences("conv2d d/dweight", at: w) {
            conv2d(x, weight: $0, bias: b, stride: 1, padding: .same, dilation: 2, groups: 2)
        }
        expectGradientMatchesFiniteDifferences("conv2d d/dbias", at: b) {
            conv2d(x, weight: w, bias: $0, padding: .valid, groups: 2)
        }
        let x16 = Tensor.randomNormal(shape: [1, 16, 5, 6], using: &rng)
        let w16 = Tensor.randomNormal(shape: [8, 16, 3, 3], using: &rng).mapValues { $0 * 0.3 }
        expectGradientMatchesFiniteDifferences("conv2dReLU d/dx (flipped-kernel path)", at: x16, eps: 1e-3) {
            conv2dReLU($0, weight: w16, padding: .same)
        }
        let wt = Tensor.randomNormal(shape: [4, 3, 3, 3], using: &rng)
        expectGradientMatchesFiniteDifferences("convTranspose2d d/dx", at: x) {
            convTranspose2d($0, weight: wt, stride: 2, padding: 1, outputPadding: 1)
        }
        expectGradientMatchesFiniteDifferences("convTranspose2d d/dweight", at: wt) {
            convTranspose2d(x, weight: $0, stride: 2, padding: 1)
        }
    }

    @Test func weightGradientIsSkippedWhenOnlyTheInputNeedsIt() {
        // The activation-maximisation engine differentiates only the image: the weights get no gradient.
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.randomNormal(shape: [1, 3, 8, 8], using: &rng)
        let w = Tensor.randomNormal(shape: [4, 3, 3, 3], using: &rng)
        x.requiresGrad = true
        conv2dReLU(x, weight: w, padding: .same).backward()
        #expect(x.grad != nil)
        #expect(w.grad == nil)
    }

    @Test func shapeErrorsNameTheOpAndShapes() {
        #expect(throws: ConvShapeError.channelMismatch(op: "conv2d", input: 64, weightExpects: 128, weight: [256, 128, 3, 3], groups: 1)) {
            try validateConv2d(input: [1, 64, 32, 32], weight: [256, 128, 3, 3], bias: nil)
        }
        #expect(throws: ConvShapeError.self) {
            try validateConv2d(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], bias: nil, stride: 2, padding: .same)
        }
        #expect(throws: ConvShapeError.self) {
            try validateConv2d(input: [1, 3, 2, 2], weight: [4, 3, 3, 3], bias: nil)
        }
        #expect(throws: ConvShapeError.self) {
            try validateConv2d(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], bias: [5])
        }
        #expect((try? validateConv2d(input: [2, 3, 9, 9], weight: [4, 3, 3, 3], bias: [4], stride: 2, padding: .explicit(1, 1))) == [2, 4, 5, 5])
    }

    @Test("the one output-size rule of conv and pooling (Models' input-size checks use it), as PyTorch")
    func outputSizes() {
        // floor((5 + 2 - 3) / 2) + 1 = 3; dilation 2 makes the kernel 5 wide: floor((5 + 2 - 5) / 1) + 1 = 3.
        #expect(convOutputSize(5, kernel: 3, stride: 2, padding: 2, dilation: 1) == 3)
        #expect(convOutputSize(5, kernel: 3, stride: 1, padding: 2, dilation: 2) == 3)
        #expect(convOutputSize(2, kernel: 3, stride: 1, padding: 0, dilation: 1) == nil)
        // ceil mode: a last window starting in the input counts (5 -> 3), one starting in the padding does not.
        #expect(poolOutputSize(5, kernel: 2, stride: 2, padding: 0, ceilMode: false) == 2)
        #expect(poolOutputSize(5, kernel: 2, stride: 2, padding: 0, ceilMode: true) == 3)
        #expect(poolOutputSize(4, kernel: 2, stride: 2, padding: 1, ceilMode: true) == 3)
        #expect(poolOutputSize(2, kernel: 3, stride: 2, padding: 0, ceilMode: false) == 0)
        let x = Tensor(shape: [1, 1, 5, 5], storage: (0..<25).map(Float.init))
        #expect(maxPool2d(x, kernel: 2, stride: 2, ceilMode: true).shape == [1, 1, 3, 3])
        #expect(conv2d(x, weight: Tensor(repeating: 1, shape: [1, 1, 3, 3]), stride: 2, padding: .explicit(1, 1)).shape == [1, 1, 3, 3])
    }

    @Test("each shape error's message names the op, the values and what fits")
    func shapeErrorMessages() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { try validateConv2d(input: [1, 64, 32, 32], weight: [256, 128, 3, 3], bias: nil) }
                == "conv2d: input has 64 channels, weight expects 128 (weight [256, 128, 3, 3])")
        #expect(message { try validateConv2d(input: [1, 4, 8, 8], weight: [4, 1, 3, 3], bias: nil, groups: 3) }
                == "conv2d: 4 output channels do not split into 3 groups (weight [4, 1, 3, 3])")
        #expect(message { try validateConv2d(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], bias: nil, stride: 0) }
                == "conv2d: stride (0), dilation (1) and groups (1) must be at least 1")
        #expect(message { try validateConv2d(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], bias: nil, stride: 2, padding: .same) }
                == "conv2d: padding .same needs stride 1 (as in PyTorch), got stride 2")
        #expect(message { try validateConv2d(input: [1, 3, 2, 2], weight: [4, 3, 3, 3], bias: nil) }
                == "conv2d: input [1, 3, 2, 2] with padding valid is smaller than the dilated kernel 3x3 (weight [4, 3, 3, 3])")
        #expect(message { try validateConv2d(input: [1, 3, 8, 8], weight: [4, 3, 3, 3], bias: [5]) }
                == "conv2d: bias must have shape [4] for weight [4, 3, 3, 3], got [5]")
        #expect(message { try validateConv2d(input: [3, 8, 8], weight: [4, 3, 3, 3], bias: nil) }
                == "conv2d: input must be (N, C, H, W), got shape [3, 8, 8]")
    }
}
