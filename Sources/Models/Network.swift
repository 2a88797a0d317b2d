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

    /// Validates `parameters` strictly against the architecture: every conv key present with its exact shape;
    /// classifier keys all present or all absent; nothing unexpected.
    public init(name: String, architecture: Architecture, preprocessing: Preprocessing,
                parameters: [String: Tensor], file: String, provenance: [String: String] = [:]) throws {
        let expected = architecture.parameterShapes
        let classifierKeys = Set(expected.filter { $0.key.hasPrefix("classifier.") }.map(\.key))
        let hasClassifier = parameters.keys.contains { classifierKeys.contains($0) }
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
        if !missing.isEmpty { throw ModelError.missingKeys(file: file, keys: missing) }
        let known = Set(expected.map(\.key))
        let unexpected = parameters.keys.filter { !known.contains($0) }.sorted()
        if !unexpected.isEmpty { throw ModelError.unexpectedKeys(file: file, keys: unexpected) }

        self.name = name
        self.architecture = architecture
        self.preprocessing = preprocessing
        self.parameters = parameters
        self.hasClassifier = hasClassifier
        self.provenance = provenance
    }

    // MARK: Layers

    /// The layer `layerName` taps (friendly, Keras or torchvision name), resolved once, or a clear error.
    public func layer(_ layerName: String) throws -> LayerRef {
        guard let layer = architecture.layer(named: layerName) else {
            throw ModelError.unknownLayer(layerName, model: name, known: architecture.names.friendlyNames)
        }
        if layer.node.index >= architecture.classifierStart && !hasClassifier {
            throw ModelError.classifierUnavailable(model: name, layer: layerName)
        }
        return layer
    }

    /// The layer at `node`, by its preferred name.
    public func layer(at node: NodeID) -> LayerRef { architecture.layer(at: node) }

    /// The receptive field of a layer's output units.
    public func receptiveField(of layer: LayerRef) -> ReceptiveField {
        ReceptiveField(layers: architecture.layers, through: layer.node.index)
    }

    /// A parameter by its torchvision key (e.g. "features.0.weight"), for inspection.
    public func parameter(_ key: String) -> Tensor? { parameters[key] }

    // MARK: Forward

    /// Runs `rgb` (N, 3, H, W) in [0, 1] through the network up to and including module `index`, and nothing
    /// beyond it. Convs followed by their ReLU run fused when the ReLU is also wanted.
    public func forward(_ rgb: Tensor, to layer: LayerRef, options: ForwardOptions = ForwardOptions()) -> Tensor {
        forward(rgb, taps: [layer.node], options: options)[layer.node]!
    }

    /// Runs once to the deepest of `taps`, returning the output of each tapped node.
    public func forward(_ input: Tensor, taps: Set<NodeID>, options: ForwardOptions = ForwardOptions()) -> [NodeID: Tensor] {
        guard let last = taps.max()?.index else { return [:] }
        precondition(last < architecture.layers.count, "forward: tap \(last) beyond the \(architecture.layers.count) modules of \(name)")
        let tapped = Set(taps.map(\.index))
        var x = options.inputIsPreprocessed ? input : preprocessing.apply(input)
        var results: [NodeID: Tensor] = [:]
        var i = 0
        while i <= last {
            let layer = architecture.layers[i]
            switch layer.kind {
            case let .conv(_, _, _, stride, padding, dilation):
                let (w, b, id) = convParameters(i, channels: options.restrictedChannels?.conv.index == i ? options.restrictedChannels?.channels : nil)
                // Fuse with the following ReLU when this conv's own output is not tapped.
                let fuse = i < last && !tapped.contains(i) && architecture.layers[i + 1].kind == .relu
                    && options.reluGradient == .exact
                if fuse {
                    x = conv2dReLU(x, weight: w, bias: b, stride: stride, padding: .explicit(padding, padding), dilation: dilation,
                                   weightsIdentity: id)
                    i += 1
                } else {
                    x = conv2d(x, weight: w, bias: b, stride: stride, padding: .explicit(padding, padding), dilation: dilation,
                               weightsIdentity: id)
                }
            case .relu:
                x = options.reluGradient == .exact ? relu(x) : redirectedReLU(x)
            case let .maxPool(kernel, stride, padding, ceilMode):
                x = maxPool2d(x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
            case let .adaptiveAvgPool(h, w):
                if x.shape[2] != h || x.shape[3] != w { x = adaptiveAvgPool2d(x, outputSize: (h, w)) }
            case .flatten:
                x = flatten(x, startAxis: 1)
            case .dropout:
                break  // evaluation mode: identity
            case .linear:
                x = linear(x, weight: parameters["\(layer.path).weight"]!, bias: parameters["\(layer.path).bias"])
            }
            if tapped.contains(i) { results[NodeID(i)] = x }
            i += 1
        }
        return results
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
    /// The weight and bias of conv module `conv`, or only their rows `channels` (the restricted last conv), with the
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
