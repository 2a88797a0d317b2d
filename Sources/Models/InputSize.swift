import TensorCore

/// Which input sizes a network can take to a layer, from the layers' own shape arithmetic: the smallest that
/// leaves every conv and pooling window non-empty, and roughly how much memory a size needs.
///
/// Callers check sizes with these before any work, so no kernel precondition on shapes is reachable from a
/// command-line or config value.
extension Architecture {
    /// Sides above this are refused without arithmetic (no overflow, and far past any memory budget).
    public static let largestSide = 1 << 20

    /// The spatial size of node `index`'s output for a `height` x `width` input, as PyTorch computes it; nil
    /// when a window on the way would be empty or two merged maps differ (the input is too small, or of a size
    /// the graph cannot take). Past an adaptive pool, flatten or linear layer any non-empty map works.
    public func outputSize(through index: Int, height: Int, width: Int) -> (height: Int, width: Int)? {
        guard height >= 1, width >= 1, height <= Self.largestSide, width <= Self.largestSide,
              let sizes = mapSizes(through: index, height: height, width: width) else { return nil }
        return sizes[index]
    }

    /// Every needed node's map size on the way to `index` (nil entries for nodes not needed), or nil when one fails.
    private func mapSizes(through index: Int, height: Int, width: Int) -> [(height: Int, width: Int)?]? {
        var sizes = [(height: Int, width: Int)?](repeating: nil, count: index + 1)
        for i in ancestors(of: [index]).sorted() {
            let layer = layers[i]
            let inputs = layer.inputs.map { $0 == Layer.image ? (height, width) : sizes[$0]! }
            var (h, w) = inputs[0]
            switch layer.kind {
            case let .conv(c):
                // The kernels' own rules (TensorCore), so a size passes here exactly when the op accepts it.
                let p = c.padding
                guard let outH = convOutputSize(h, kernel: c.kernel, stride: c.stride, padding: p.top + p.bottom, dilation: c.dilation),
                      let outW = convOutputSize(w, kernel: c.kernel, stride: c.stride, padding: p.left + p.right, dilation: c.dilation)
                else { return nil }
                (h, w) = (outH, outW)
            case let .maxPool(k, s, p, ceilMode), let .avgPool(k, s, p, ceilMode, _):
                (h, w) = (poolOutputSize(h, kernel: k, stride: s, padding: p, ceilMode: ceilMode),
                          poolOutputSize(w, kernel: k, stride: s, padding: p, ceilMode: ceilMode))
            case let .adaptiveAvgPool(ph, pw):
                (h, w) = (ph, pw)
            case .flatten, .linear, .softmax:
                (h, w) = (1, 1)
            case .add, .mul, .concat:
                // Maps merge only at one size (a 1 x 1 gate broadcasts over any map).
                let maps = inputs.filter { $0 != (1, 1) }
                guard let first = maps.first ?? inputs.first, maps.allSatisfy({ $0 == first }) else { return nil }
                (h, w) = first
            default: break
            }
            if h < 1 || w < 1 { return nil }
            sizes[i] = (h, w)
        }
        return sizes
    }

    /// The smallest square input side that reaches node `index` (output sizes only grow with the input).
    public func minimumSide(through index: Int) -> Int {
        var side = 1
        while outputSize(through: index, height: side, width: side) == nil && side < 4096 { side += 1 }
        return side
    }

    /// The float counts of every node's output needed for `index` for one `height` x `width` image, with each
    /// node's input count (the size of its inputs together).
    func activationCounts(through index: Int, height: Int, width: Int) -> [(input: Double, output: Double)] {
        let needed = ancestors(of: [index]).sorted()
        let sizes = mapSizes(through: index, height: height, width: width)
        var floats = [Double](repeating: 0, count: index + 1)
        var counts: [(Double, Double)] = []
        for i in needed {
            let layer = layers[i]
            let input = layer.inputs.reduce(0.0) { $0 + ($1 == Layer.image ? 3 * Double(height) * Double(width) : floats[$1]) }
            let map = sizes?[i] ?? (height, width)
            let channels = Double(channelCounts[i])
            floats[i] = channels * Double(map.height) * Double(map.width)
            counts.append((input, floats[i]))
        }
        return counts
    }

    /// The parameter floats of the nodes `index` needs.
    func parameterCount(through index: Int) -> Double {
        ancestors(of: [index]).map { layers[$0] }.flatMap(\.parameterShapes).reduce(0) { $0 + Double($1.shape.reduce(1, *)) }
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
