import Foundation
import TensorCore

/// A network with its weights loaded: an architecture, its parameters, and the input convention they expect.
///
/// Weights are constants (they never require gradients), so the autograd graph of a forward pass carries only
/// what the input gradient needs.
public final class Network {
    /// The catalogue name, e.g. "vgg16".
    public let name: String
    public let architecture: Architecture
    public let preprocessing: Preprocessing
    /// Whether fc6-fc8 weights are present (the published conv-only sources lack them).
    public let hasClassifier: Bool
    /// Where the weights came from and their sha256, for manifests.
    public let provenance: [String: String]
    private let parameters: [String: Tensor]
    private let restrictedRows = RestrictedRows()

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

    /// The module index that `layerName` taps (friendly, Keras or torchvision name), or a clear error.
    public func layerIndex(_ layerName: String) throws -> Int {
        guard let index = architecture.names.indexByName[layerName] else {
            throw ModelError.unknownLayer(layerName, model: name, known: architecture.names.friendlyNames)
        }
        if index >= architecture.classifierStart && !hasClassifier {
            throw ModelError.classifierUnavailable(model: name, layer: layerName)
        }
        return index
    }

    /// The preferred name of a module's output.
    public func layerName(_ index: Int) -> String { architecture.names.preferredName[index] ?? architecture.layers[index].path }

    /// The number of channels (filters) of a module's output.
    public func channels(at index: Int) -> Int {
        var channels = 3
        for layer in architecture.layers.prefix(index + 1) {
            switch layer.kind {
            case let .conv(_, out, _, _, _, _): channels = out
            case let .linear(_, out): channels = out
            case .flatten: channels = flattenedFeatures
            default: break
            }
        }
        return channels
    }

    /// The length of the flattened classifier input (the first linear layer's input size).
    private var flattenedFeatures: Int {
        for layer in architecture.layers { if case let .linear(fin, _) = layer.kind { return fin } }
        return 0
    }

    /// The conv whose filters module `index` shows: the conv itself, or the conv right before a ReLU; nil otherwise
    /// (pools, linear layers).
    public func convIndex(feeding index: Int) -> Int? {
        let layers = architecture.layers
        if case .conv = layers[index].kind { return index }
        if layers[index].kind == .relu, index > 0, case .conv = layers[index - 1].kind { return index - 1 }
        return nil
    }

    /// The receptive field of a module's output units.
    public func receptiveField(at index: Int) -> ReceptiveField {
        ReceptiveField(layers: architecture.layers, through: index)
    }

    /// A parameter by its torchvision key (e.g. "features.0.weight"), for inspection.
    public func parameter(_ key: String) -> Tensor? { parameters[key] }

    // MARK: Forward

    /// Runs `rgb` (N, 3, H, W) in [0, 1] through the network up to and including module `index`, and nothing
    /// beyond it. Convs followed by their ReLU run fused when the ReLU is also wanted.
    public func forward(_ rgb: Tensor, to index: Int, options: ForwardOptions = ForwardOptions()) -> Tensor {
        forward(rgb, taps: [index], options: options)[index]!
    }

    /// Runs once to the deepest of `taps`, returning the output of each tapped module.
    public func forward(_ input: Tensor, taps: Set<Int>, options: ForwardOptions = ForwardOptions()) -> [Int: Tensor] {
        guard let last = taps.max() else { return [:] }
        precondition(last < architecture.layers.count, "forward: tap \(last) beyond the \(architecture.layers.count) modules of \(name)")
        var x = options.inputIsPreprocessed ? input : preprocessing.apply(input)
        var results: [Int: Tensor] = [:]
        var i = 0
        while i <= last {
            let layer = architecture.layers[i]
            switch layer.kind {
            case let .conv(_, _, _, stride, padding, dilation):
                var w = parameters["\(layer.path).weight"]!, b = parameters["\(layer.path).bias"]
                if let restriction = options.restrictedChannels, restriction.conv == i {
                    (w, b) = restrictedParameters(conv: i, channels: restriction.channels)
                }
                // Fuse with the following ReLU when this conv's own output is not tapped.
                let fuse = i < last && !taps.contains(i) && architecture.layers[i + 1].kind == .relu
                    && options.reluGradient == .exact
                if fuse {
                    x = conv2dReLU(x, weight: w, bias: b, stride: stride, padding: .explicit(padding, padding), dilation: dilation)
                    i += 1
                } else {
                    x = conv2d(x, weight: w, bias: b, stride: stride, padding: .explicit(padding, padding), dilation: dilation)
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
            if taps.contains(i) { results[i] = x }
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
    /// Compute only these output channels of the conv at module `conv` (the engine's last layer, where only the
    /// target filters matter); the output's channel axis then lists them in this order.
    public var restrictedChannels: (conv: Int, channels: [Int])?

    public init(inputIsPreprocessed: Bool = false, reluGradient: ReLUGradient = .exact,
                restrictedChannels: (conv: Int, channels: [Int])? = nil) {
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
    /// The weight and bias rows of conv module `conv` for `channels`: the same tensors every time for the same
    /// request (the last few are kept), so a thousand optimisation steps reuse one weight array, and with it
    /// one cached Winograd transform, instead of making a new one per step.
    func restrictedParameters(conv: Int, channels: [Int]) -> (weight: Tensor, bias: Tensor?) {
        restrictedRows.rows(conv: conv, channels: channels) {
            let path = architecture.layers[conv].path
            let w = parameters["\(path).weight"]!, b = parameters["\(path).bias"]
            return (selectRows(w, channels), b.map { selectRows($0, channels) })
        }
    }
}

/// The most recently used restricted conv parameters (see `Network.restrictedParameters`).
final class RestrictedRows: @unchecked Sendable {
    private struct Entry { let conv: Int, channels: [Int], weight: Tensor, bias: Tensor? }
    /// Entries kept: one per filter batch in flight is plenty.
    static let capacity = 8
    private let lock = NSLock()
    private var entries: [Entry] = []

    func rows(conv: Int, channels: [Int], make: () -> (Tensor, Tensor?)) -> (weight: Tensor, bias: Tensor?) {
        lock.lock()
        defer { lock.unlock() }
        if let i = entries.firstIndex(where: { $0.conv == conv && $0.channels == channels }) {
            let entry = entries.remove(at: i)
            entries.append(entry)
            return (entry.weight, entry.bias)
        }
        let (weight, bias) = make()
        entries.append(Entry(conv: conv, channels: channels, weight: weight, bias: bias))
        if entries.count > Self.capacity { entries.removeFirst() }
        return (weight, bias)
    }
}

/// Rows `rows` of a tensor along its first axis (a weight's output channels), as a constant.
func selectRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let rowSize = t.count / t.shape[0]
    var out = [Float](); out.reserveCapacity(rows.count * rowSize)
    for r in rows { out += t.storage[(r * rowSize)..<((r + 1) * rowSize)] }
    return Tensor(shape: [rows.count] + t.shape.dropFirst(), storage: out)
}
