import TensorCore

/// One layer of a benchmark network's feature stack (torchvision layout; every conv is followed by ReLU).
enum BenchLayer {
    case conv(outChannels: Int, kernel: Int, stride: Int, padding: Int)
    case maxPool(kernel: Int, stride: Int)
}

/// A benchmark network: feature layers as data, seeded random weights (He-scaled, so activations keep a
/// sensible range through depth: denormals or overflow would distort timings), and an optional classifier.
final class BenchNetwork {
    let name: String
    let layers: [BenchLayer]
    /// (weight, bias) of each conv, in order.
    private(set) var convWeights: [(Tensor, Tensor)] = []
    /// This network's name for its weights in the transform cache (as a loaded `Network` has).
    private let owner = WeightsIdentity.newOwner()
    /// Classifier input pooling (h, w) and (weight, bias) of each linear layer.
    let poolSize: (Int, Int)
    private(set) var linearWeights: [(Tensor, Tensor)] = []

    init(name: String, layers: [BenchLayer], poolSize: (Int, Int), classifier: [Int], withClassifier: Bool, seed: UInt64) {
        self.name = name
        self.layers = layers
        self.poolSize = poolSize
        var rng = SeededGenerator(seed: seed)
        var channels = 3
        for layer in layers {
            if case .conv(let o, let k, _, _) = layer {
                let std = Float((2.0 / Double(channels * k * k)).squareRoot())
                convWeights.append((Tensor.randomNormal(shape: [o, channels, k, k], mean: 0, std: std, using: &rng),
                                    Tensor.randomUniform(shape: [o], in: -0.01..<0.01, using: &rng)))
                channels = o
            }
        }
        if withClassifier {
            var inF = channels * poolSize.0 * poolSize.1
            for outF in classifier {
                let std = Float((2.0 / Double(inF)).squareRoot())
                linearWeights.append((Tensor.randomNormal(shape: [outF, inF], mean: 0, std: std, using: &rng),
                                      Tensor.randomUniform(shape: [outF], in: -0.01..<0.01, using: &rng)))
                inF = outF
            }
        }
    }

    static func vgg16(withClassifier: Bool) -> BenchNetwork {
        let cfg: [Int] = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]  // 0 = "M"
        let layers: [BenchLayer] = cfg.map { $0 == 0 ? .maxPool(kernel: 2, stride: 2) : .conv(outChannels: $0, kernel: 3, stride: 1, padding: 1) }
        return BenchNetwork(name: "vgg16", layers: layers, poolSize: (7, 7), classifier: [4096, 4096, 1000],
                            withClassifier: withClassifier, seed: 16)
    }

    static func alexnet(withClassifier: Bool) -> BenchNetwork {
        let layers: [BenchLayer] = [
            .conv(outChannels: 64, kernel: 11, stride: 4, padding: 2), .maxPool(kernel: 3, stride: 2),
            .conv(outChannels: 192, kernel: 5, stride: 1, padding: 2), .maxPool(kernel: 3, stride: 2),
            .conv(outChannels: 384, kernel: 3, stride: 1, padding: 1),
            .conv(outChannels: 256, kernel: 3, stride: 1, padding: 1),
            .conv(outChannels: 256, kernel: 3, stride: 1, padding: 1), .maxPool(kernel: 3, stride: 2),
        ]
        return BenchNetwork(name: "alexnet", layers: layers, poolSize: (6, 6), classifier: [4096, 4096, 1000],
                            withClassifier: withClassifier, seed: 12)
    }

    /// Runs the feature stack through conv number `throughConv` (0-based); the last conv has no ReLU (the
    /// activation-maximisation objective reads the pre-ReLU response), all others are conv + ReLU fused.
    func features(_ x: Tensor, throughConv last: Int? = nil) -> Tensor {
        var h = x, conv = 0
        for layer in layers {
            switch layer {
            case .conv(_, _, let s, let p):
                let (w, b) = convWeights[conv]
                let id = WeightsIdentity(owner: owner, parameter: "conv\(conv).weight")
                if conv == last {
                    return conv2d(h, weight: w, bias: b, stride: s, padding: .explicit(p, p), weightsIdentity: id)
                }
                h = conv2dReLU(h, weight: w, bias: b, stride: s, padding: .explicit(p, p), weightsIdentity: id)
                conv += 1
            case .maxPool(let k, let s):
                h = maxPool2d(h, kernel: k, stride: s)
            }
        }
        return h
    }

    /// The whole network: features, adaptive average pooling, the classifier (ReLU between linears).
    func classify(_ x: Tensor) -> Tensor {
        var h = flatten(adaptiveAvgPool2d(features(x), outputSize: poolSize), startAxis: 1)
        for (i, (w, b)) in linearWeights.enumerated() {
            h = linear(h, weight: w, bias: b)
            if i + 1 < linearWeights.count { h = relu(h) }
        }
        return h
    }

    /// Floating-point operations per image of `features(throughConv:)` at `size` px (2 per multiply-add),
    /// plus the classifier's when `classifier` is set: the direct-convolution count (the usual figure, as in
    /// performance.md), or with `executed` the multiply-adds our kernels really run, forward and, with
    /// `inputGradient`, the input-gradient pass too (Winograd layers run 16 per 2x2 tile instead of 36).
    func forwardFLOPs(size: Int, throughConv last: Int?, classifier: Bool, executed: Bool = false,
                      inputGradient: Bool = false) -> Double {
        var c = 3, h = size, w = size, conv = 0, flops = 0.0
        for layer in layers {
            switch layer {
            case .conv(let o, let k, let s, let p):
                if executed {
                    for backward in inputGradient ? [false, true] : [false] {
                        flops += 2 * Double(ConvAlgorithm.executedMultiplyAdds(
                            batch: 1, inChannels: c, outChannels: o, height: h, width: w, kernel: k, stride: s, padding: p,
                            inputGradient: backward))
                    }
                }
                h = (h + 2 * p - k) / s + 1; w = (w + 2 * p - k) / s + 1
                if !executed { flops += 2 * Double(o * h * w * c * k * k) }
                c = o
                if conv == last { return flops }
                conv += 1
            case .maxPool(let k, let s):
                h = (h - k) / s + 1; w = (w - k) / s + 1
            }
        }
        if classifier {
            var inF = c * poolSize.0 * poolSize.1
            for outF in [4096, 4096, 1000] { flops += 2 * Double(inF * outF); inF = outF }
        }
        return flops
    }
}
