import TensorCore

/// A network with its weights loaded: an architecture, its parameters, and the input convention they expect.
///
/// Weights are constants (they never require gradients), so the autograd graph of a forward pass carries only
/// what the input gradient needs.
///
/// Sendable: every property is a constant set in `init`, and no code writes into the weight tensors after it (the
/// kernels only read them), so one loaded network serves any number of threads and tasks.
public final class Network: @unchecked Sendable {
    /// The catalogue name, e.g. "vgg16".
    public let name: String
    public let architecture: Architecture
    public let preprocessing: Preprocessing
    /// Whether fc6-fc8 weights are present (the published conv-only sources lack them).
    public let hasClassifier: Bool
    /// Where the weights came from and their sha256, for manifests.
    public let provenance: [String: String]
    private let parameters: [String: Tensor]
    /// This network's name for its weights in the transform cache (unique in the process, never reused).
    private let weightsOwner = WeightsIdentity.newOwner()

    /// Validates `parameters` strictly against the architecture, as torch's strict `load_state_dict`: every key
    /// present with its exact shape (a chain's classifier keys all present or all absent), nothing unexpected
    /// (batch norms' `num_batches_tracked` counters aside). Batch norms are folded into their convs here.
    public init(name: String, architecture: Architecture, preprocessing: Preprocessing,
                parameters: [String: Tensor], file: String, provenance: [String: String] = [:]) throws {
        let expected = architecture.parameterShapes
        let classifierKeys = Set(architecture.layers[architecture.classifierStart...].flatMap(\.parameterShapes).map(\.key))
        let hasClassifier = classifierKeys.isEmpty || parameters.keys.contains { classifierKeys.contains($0) }
        var missing: [String] = []
        for (key, shape) in expected {
            guard let tensor = parameters[key] else {
                if hasClassifier || !classifierKeys.contains(key) { missing.append(key) }
                continue
            }
            if tensor.shape != shape {
                throw ModelError.wrongShape(file: file, key: key, expected: shape, found: tensor.shape)
            }
        }
        let known = Set(expected.map(\.key))
        let unexpected = parameters.keys.filter { !known.contains($0) && !$0.hasSuffix(".num_batches_tracked") }.sorted()
        if !missing.isEmpty || !unexpected.isEmpty {
            throw ModelError.keysMismatch(file: file, model: name, missing: missing, unexpected: unexpected)
        }

        self.name = name
        self.architecture = architecture
        self.preprocessing = preprocessing
        self.parameters = Self.foldingBatchNorms(parameters, architecture: architecture)
        self.hasClassifier = hasClassifier
        self.provenance = provenance
    }

    /// The parameters with each batch norm folded into the conv before it (inference statistics):
    /// w' = w * s, b' = (b - mean) * s + beta with s = gamma / sqrt(var + eps), per output channel, in Double.
    static func foldingBatchNorms(_ parameters: [String: Tensor], architecture: Architecture) -> [String: Tensor] {
        var folded = parameters
        for layer in architecture.layers {
            guard case let .conv(c) = layer.kind, let bn = c.batchNorm else { continue }
            let weight = parameters["\(layer.path).weight"]!
            let gamma = parameters["\(bn.path).weight"]!.storage, beta = parameters["\(bn.path).bias"]!.storage
            let mean = parameters["\(bn.path).running_mean"]!.storage, variance = parameters["\(bn.path).running_var"]!.storage
            let bias = parameters["\(layer.path).bias"]?.storage
            let perChannel = weight.count / c.outChannels
            var w = weight.storage, b = [Float](repeating: 0, count: c.outChannels)
            for o in 0..<c.outChannels {
                let scale = Double(gamma[o]) / (Double(variance[o]) + Double(bn.epsilon)).squareRoot()
                for i in (o * perChannel)..<((o + 1) * perChannel) { w[i] = Float(Double(w[i]) * scale) }
                b[o] = Float((Double(bias?[o] ?? 0) - Double(mean[o])) * scale + Double(beta[o]))
            }
            folded["\(layer.path).weight"] = Tensor(shape: weight.shape, storage: w)
            folded["\(layer.path).bias"] = Tensor(shape: [c.outChannels], storage: b)
            for key in ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"] { folded["\(bn.path).\(key)"] = nil }
        }
        return folded
    }

    // MARK: Layers

    /// The layer `layerName` taps (friendly, Keras or torchvision name), resolved once, or a clear error.
    public func layer(_ layerName: String) throws -> LayerRef {
        guard let layer = architecture.layer(named: layerName) else {
            throw ModelError.unknownLayer(layerName, model: name, known: architecture.names.friendlyNames)
        }
        try check(layer)
        return layer
    }

    /// The layer at `node`, by its preferred name.
    public func layer(at node: NodeID) -> LayerRef { architecture.layer(at: node) }

    /// Refuses a reference this network cannot compute: one resolved for another architecture, or a classifier
    /// layer when the weights have no classifier.
    public func check(_ layer: LayerRef) throws {
        guard layer.architecture == architecture.family, layer.node.index < architecture.layers.count else {
            throw ModelError.unknownLayer(layer.name, model: name, known: architecture.names.friendlyNames)
        }
        if layer.node.index >= architecture.classifierStart && !hasClassifier {
            throw ModelError.classifierUnavailable(model: name, layer: layer.name)
        }
    }

    /// The receptive field of a layer's output units.
    public func receptiveField(of layer: LayerRef) -> ReceptiveField {
        ReceptiveField(layers: architecture.layers, through: layer.node.index)
    }

    /// A parameter by its torchvision key (e.g. "features.0.weight"), for inspection.
    public func parameter(_ key: String) -> Tensor? { parameters[key] }

    // MARK: Forward

    /// Runs `rgb` (N, 3, H, W) in [0, 1] through the nodes `layer` needs, and nothing else.
    public func forward(_ rgb: Tensor, to layer: LayerRef, options: ForwardOptions = ForwardOptions()) -> Tensor {
        forward(rgb, taps: [layer.node], options: options)[layer.node]!
    }

    /// Runs the nodes `taps` need, and nothing else, returning the output of each tapped node. A conv whose only
    /// reader is a ReLU runs fused with it when the conv's own output is not tapped.
    public func forward(_ input: Tensor, taps: Set<NodeID>, options: ForwardOptions = ForwardOptions()) -> [NodeID: Tensor] {
        guard !taps.isEmpty else { return [:] }
        let layers = architecture.layers
        precondition(taps.allSatisfy { $0.index < layers.count }, "forward: a tap beyond the \(layers.count) nodes of \(name)")
        let tapped = Set(taps.map(\.index))
        let needed = architecture.ancestors(of: tapped)
        let image = options.inputIsPreprocessed ? input : preprocessing.apply(input)
        var values = [Tensor?](repeating: nil, count: layers.count)
        // Readers still to run per node, so each value is dropped once its last reader has it.
        var pending = architecture.consumers.map { $0.filter(needed.contains).count }
        var fusedInto = Set<Int>()
        var results: [NodeID: Tensor] = [:]
        for i in needed.sorted() {
            let layer = layers[i]
            if fusedInto.contains(i) {
                values[i] = values[layer.inputs[0]]
                values[layer.inputs[0]] = nil
            } else {
                let args = layer.inputs.map { $0 == Layer.image ? image : values[$0]! }
                let fused = fusableReLU(after: i, tapped: tapped, needed: needed, options: options)
                if let fused { fusedInto.insert(fused) }
                values[i] = evaluate(i, args, options: options, fuseReLU: fused != nil)
            }
            for input in layer.inputs where input >= 0 && !fusedInto.contains(i) {
                pending[input] -= 1
                if pending[input] == 0 && !tapped.contains(input) { values[input] = nil }
            }
            if tapped.contains(i) { results[NodeID(i)] = values[i]! }
        }
        return results
    }

    /// The ReLU node that node `i` (a conv) can run fused with: its only reader, needed, and the conv's own
    /// output not tapped.
    private func fusableReLU(after i: Int, tapped: Set<Int>, needed: Set<Int>, options: ForwardOptions) -> Int? {
        guard case .conv = architecture.layers[i].kind, options.reluGradient == .exact, !tapped.contains(i) else { return nil }
        let readers = architecture.consumers[i]
        guard readers.count == 1, let reader = readers.first, needed.contains(reader),
              architecture.layers[reader].kind == .relu else { return nil }
        return reader
    }

    /// The output of node `i` for its input values `args`.
    private func evaluate(_ i: Int, _ args: [Tensor], options: ForwardOptions, fuseReLU: Bool) -> Tensor {
        let layer = architecture.layers[i]
        let x = args[0]
        switch layer.kind {
        case let .conv(c):
            let (w, b, id) = convParameters(i, channels: options.restrictedChannels?.conv.index == i ? options.restrictedChannels?.channels : nil)
            let p = c.padding
            let padding: ConvPadding = p.top == p.bottom && p.left == p.right ? .explicit(p.top, p.left)
                : .asymmetric(top: p.top, bottom: p.bottom, left: p.left, right: p.right)
            return fuseReLU
                ? conv2dReLU(x, weight: w, bias: b, stride: c.stride, padding: padding, dilation: c.dilation, groups: c.groups, weightsIdentity: id)
                : conv2d(x, weight: w, bias: b, stride: c.stride, padding: padding, dilation: c.dilation, groups: c.groups, weightsIdentity: id)
        case .relu:
            return options.reluGradient == .exact ? relu(x) : redirectedReLU(x)
        case let .clip(lo, hi):
            return hardtanh(x, min: lo, max: hi)  // torch's gradient: only strictly inside the bounds
        case .sigmoid:
            return sigmoid(x)
        case .silu:
            return x * sigmoid(x)
        case let .maxPool(kernel, stride, padding, ceilMode):
            return maxPool2d(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
        case let .avgPool(kernel, stride, padding, ceilMode, countIncludePad):
            return avgPool2d(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
        case let .adaptiveAvgPool(h, w):
            return x.shape[2] == h && x.shape[3] == w ? x : adaptiveAvgPool2d(x, outputSize: (h, w))
        case .add:
            return args.dropFirst().reduce(x, +)
        case .mul:
            return args.dropFirst().reduce(x, *)
        case .concat:
            return concat(args, axis: 1)
        case .flatten:
            return flatten(x, startAxis: 1)
        case .dropout:
            return x  // evaluation mode: identity
        case .linear:
            return linear(x, weight: parameters["\(layer.path).weight"]!, bias: parameters["\(layer.path).bias"])
        case .softmax:
            return softmax(x, axis: 1)
        }
    }
}

/// How a forward pass runs, beyond its input and taps.
public struct ForwardOptions {
    /// The input is already in the network's convention (the Keras-2016 raw input space): skip preprocessing.
    public var inputIsPreprocessed = false
    /// `.redirected` lets gradient through ReLUs that are off when it would turn them on (lucid's warm-up).
    public var reluGradient: ReLUGradient = .exact
    /// Compute only these output channels of the conv at node `conv` (the engine's last layer, where only the
    /// target filters matter); the output's channel axis then lists them in this order.
    public var restrictedChannels: (conv: NodeID, channels: [Int])?

    public init(inputIsPreprocessed: Bool = false, reluGradient: ReLUGradient = .exact,
                restrictedChannels: (conv: NodeID, channels: [Int])? = nil) {
        self.inputIsPreprocessed = inputIsPreprocessed
        self.reluGradient = reluGradient
        self.restrictedChannels = restrictedChannels
    }
}

/// The gradient rule of the network's ReLUs.
public enum ReLUGradient: String, Sendable, Codable {
    /// The true derivative (0 where the input is negative).
    case exact
    /// lucid's redirected ReLU: where the input is negative, the gradient still passes when it pushes the input up,
    /// so filters that are off for the starting image are not stuck there.
    case redirected
}

/// ReLU whose backward, for an image that gets no gradient through the true ReLU derivative, lets a positive
/// (score-raising) gradient through where the unit is off (lucid's `redirected_relu_grad`). Images that do get
/// a gradient keep the exact one, so the warm-up only wakes filters that are off for the starting image.
public func redirectedReLU(_ x: Tensor) -> Tensor {
    let input = x.storage
    let batch = max(x.shape.first ?? 1, 1), per = x.count / batch
    return Tensor.result(op: "redirected_relu", shape: x.shape, storage: input.map { max($0, 0) }, inputs: [x]) { g in
        var out = g.storage
        for b in 0..<batch {
            let range = (b * per)..<((b + 1) * per)
            let exactIsZero = range.allSatisfy { input[$0] <= 0 || out[$0] == 0 }
            for i in range where input[i] <= 0 {
                // Exact ReLU gradient unless nothing gets through for this image; then drop only the pushes downward.
                if !exactIsZero || out[i] < 0 { out[i] = 0 }
            }
        }
        return [Tensor(shape: g.shape, storage: out)]
    }
}

extension Network {
    /// Whether `ForwardOptions.restrictedChannels` may cut conv node `conv` to some of its filters: an ungrouped
    /// conv (a depthwise conv's filter reads only its own channel, so its rows cannot be cut alone).
    public func canRestrictChannels(of conv: NodeID) -> Bool {
        guard conv.index < architecture.layers.count, case let .conv(c) = architecture.layers[conv.index].kind else { return false }
        return c.groups == 1
    }

    /// The weight and bias of conv node `conv`, or only their rows `channels` (the restricted last conv), with the
    /// name the transform cache knows them by: this network's, so every step of a run reuses one transform.
    func convParameters(_ conv: Int, channels: [Int]?) -> (weight: Tensor, bias: Tensor?, identity: WeightsIdentity) {
        let path = architecture.layers[conv].path
        let w = parameters["\(path).weight"]!, b = parameters["\(path).bias"]
        let identity = WeightsIdentity(owner: weightsOwner, parameter: "\(path).weight", rows: channels)
        guard let channels else { return (w, b, identity) }
        return (selectRows(w, channels), b.map { selectRows($0, channels) }, identity)
    }
}

/// Rows `rows` of a tensor along its first axis (a weight's output channels), as a constant.
func selectRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let rowSize = t.count / t.shape[0]
    var out = [Float](); out.reserveCapacity(rows.count * rowSize)
    for r in rows { out += t.storage[(r * rowSize)..<((r + 1) * rowSize)] }
    return Tensor(shape: [rows.count] + t.shape.dropFirst(), storage: out)
}
