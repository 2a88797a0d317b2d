import TensorCore

/// Which input sizes a network can take to a layer, from the layers' own shape arithmetic: the smallest that
/// leaves every conv and pooling window non-empty, and roughly how much memory a size needs.
///
/// Callers check sizes with these before any work, so no kernel precondition on shapes is reachable from a
/// command-line or config value.
extension Architecture {
    /// Sides above this are refused without arithmetic (no overflow, and far past any memory budget).
    public static let largestSide = 1 << 20

    /// The spatial size of module `index`'s output for a `height` x `width` input, as PyTorch computes it; nil
    /// when a window would be empty (the input is too small to reach the module).
    public func outputSize(through index: Int, height: Int, width: Int) -> (height: Int, width: Int)? {
        guard height >= 1, width >= 1, height <= Self.largestSide, width <= Self.largestSide else { return nil }
        var (h, w) = (height, width)
        for layer in layers.prefix(index + 1) {
            switch layer.kind {
            case let .conv(_, _, k, s, p, d):
                // The kernels' own rules (TensorCore), so a size passes here exactly when the op accepts it.
                guard let outH = convOutputSize(h, kernel: k, stride: s, padding: 2 * p, dilation: d),
                      let outW = convOutputSize(w, kernel: k, stride: s, padding: 2 * p, dilation: d) else { return nil }
                (h, w) = (outH, outW)
            case let .maxPool(k, s, p, ceilMode):
                (h, w) = (poolOutputSize(h, kernel: k, stride: s, padding: p, ceilMode: ceilMode),
                          poolOutputSize(w, kernel: k, stride: s, padding: p, ceilMode: ceilMode))
            case .adaptiveAvgPool, .flatten, .linear:
                return (h, w)   // from here on any non-empty map works (the adaptive pool takes every size)
            default: break
            }
            if h < 1 || w < 1 { return nil }
        }
        return (h, w)
    }

    /// The smallest square input side that reaches module `index` (output sizes only grow with the input).
    public func minimumSide(through index: Int) -> Int {
        var side = 1
        while outputSize(through: index, height: side, width: side) == nil { side += 1 }
        return side
    }

    /// The float counts of every module's output through `index` for one `height` x `width` image, with each
    /// module's input count (the size of its input), and the floats of its largest temporary workspace.
    func activationCounts(through index: Int, height: Int, width: Int) -> [(input: Double, output: Double)] {
        var (h, w, c) = (Double(height), Double(width), 3.0)
        var counts: [(Double, Double)] = []
        var flat = false
        for layer in layers.prefix(index + 1) {
            let input = flat ? c : c * h * w
            switch layer.kind {
            case let .conv(_, out, k, s, p, d):
                let e = Double(d * (k - 1) + 1)
                h = max(1, ((h + 2 * Double(p) - e) / Double(s)).rounded(.down) + 1)
                w = max(1, ((w + 2 * Double(p) - e) / Double(s)).rounded(.down) + 1)
                c = Double(out)
            case let .maxPool(k, s, p, _):
                h = max(1, ((h + 2 * Double(p) - Double(k)) / Double(s)).rounded(.down) + 1)
                w = max(1, ((w + 2 * Double(p) - Double(k)) / Double(s)).rounded(.down) + 1)
            case let .adaptiveAvgPool(ph, pw):
                (h, w) = (Double(ph), Double(pw))
            case .flatten:
                c *= h * w
                flat = true
            case let .linear(_, out):
                c = Double(out)
                flat = true
            default: break
            }
            counts.append((input, flat ? c : c * h * w))
        }
        return counts
    }

    /// The parameter floats of the modules through `index`.
    func parameterCount(through index: Int) -> Double {
        layers.prefix(index + 1).flatMap(\.parameterShapes).reduce(0) { $0 + Double($1.shape.reduce(1, *)) }
    }

    /// Estimated peak bytes for `batch` images of `height` x `width` through module `index`.
    ///
    /// Inference (`training` false) holds a module's input and output at once; an optimisation step keeps every
    /// module's output for the backward pass plus two gradients of the largest map in flight, and the image
    /// parametrisation and transforms (about 30 image-sized planes). Weights count three times (their Winograd
    /// transforms for both directions are cached). Calibrated against measured peaks: VGG16 to conv5_1 at
    /// 224 px, batch 8, one step: estimate 0.95 GiB, measured 0.36-0.54 GiB (BENCHMARKS.md), so it errs high.
    public func estimatedBytes(through index: Int, height: Int, width: Int, batch: Int, training: Bool) -> Double {
        let counts = activationCounts(through: index, height: height, width: width)
        let image = 3 * Double(height) * Double(width)
        let perImage: Double
        if training {
            let kept = counts.reduce(0) { $0 + $1.output }
            let largest = counts.map(\.output).max() ?? 0
            perImage = kept + 2 * largest + 30 * image
        } else {
            let step = counts.map { $0.input + $0.output }.max() ?? 0
            perImage = step + 4 * image
        }
        return 4 * (perImage * Double(max(batch, 1)) + 3 * parameterCount(through: index))
    }
}

/// A command-line or config setting that decides the input size a network sees, checked before any work.
public struct SizeSetting {
    /// How the message names it: "--size", "overrides.size", "--crop".
    public let name: String
    public let value: Int
    /// The values the setting may take at all (its own option's limits).
    public let range: ClosedRange<Int>
    /// The square sides the network sees for a value (one per octave/stage); the smallest must reach the layer.
    public let seenSides: (Int) -> [Int]
    /// The square side whose memory counts for a value (the largest stage).
    public let memorySide: (Int) -> Int
    /// Images forwarded together, and whether the backward pass runs (optimisation).
    public let batch: Int
    public let training: Bool

    public init(name: String, value: Int, range: ClosedRange<Int> = 1...Architecture.largestSide,
                seenSides: @escaping (Int) -> [Int] = { [$0] }, memorySide: @escaping (Int) -> Int = { $0 },
                batch: Int = 1, training: Bool = false) {
        self.name = name
        self.value = value
        self.range = range
        self.seenSides = seenSides
        self.memorySide = memorySide
        self.batch = batch
        self.training = training
    }
}

extension Network {
    /// Refuses `setting` when the network would see a map too small for `layer` (naming the smallest value that
    /// works) or when its estimated memory exceeds `MemoryBudget.bytes` (naming the largest value that fits).
    public func checkInputSize(_ setting: SizeSetting, layer ref: LayerRef, budget: Double = MemoryBudget.bytes) throws {
        try check(ref)
        let index = ref.node.index, layer = ref.name
        let needed = architecture.minimumSide(through: index)
        let upper = min(setting.range.upperBound, Architecture.largestSide)
        func reaches(_ v: Int) -> Bool { (setting.seenSides(v).min() ?? v) >= needed }
        func bytes(_ v: Int) -> Double {
            let side = min(setting.memorySide(v), Architecture.largestSide)
            return architecture.estimatedBytes(through: index, height: side, width: side, batch: setting.batch,
                                               training: setting.training)
        }
        if setting.value < setting.range.lowerBound || !reaches(min(setting.value, upper)) {
            // Seen sides grow with the value: the first value that reaches the layer is the smallest that works.
            let smallest = (max(setting.range.lowerBound, 1)...upper).first(where: reaches) ?? upper
            let seen = setting.value >= 1 ? (setting.seenSides(min(setting.value, upper)).min() ?? setting.value) : setting.value
            throw ModelError.inputTooSmall(model: name, layer: layer, setting: setting.name, value: setting.value,
                                           seen: seen, needed: needed, smallest: smallest)
        }
        let cost = setting.value > upper ? Double.infinity : bytes(setting.value)
        if cost > budget {
            // The largest value that fits, by bisection (memory grows with the value); nil when none does.
            var (lo, hi) = (max(setting.range.lowerBound, 1), min(setting.value, upper))
            var largest: Int?
            while lo <= hi {
                let mid = lo + (hi - lo) / 2
                if bytes(mid) <= budget && reaches(mid) { largest = mid; lo = mid + 1 } else if !reaches(mid) { lo = mid + 1 } else { hi = mid - 1 }
            }
            throw ModelError.inputTooLarge(model: name, layer: layer, setting: setting.name, value: setting.value,
                                           bytes: cost, budget: budget, largest: largest, batch: setting.batch)
        }
    }
}
