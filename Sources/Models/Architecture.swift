/// A network's structure as data: a graph of nodes in topological order (torchvision layout for the chains),
/// with the friendly names of its layers.
public struct Architecture: Sendable {
    /// The family name, e.g. "vgg16", "alexnet", "efficientnet-lite0".
    public let family: String
    /// Every node in execution order (each reads only earlier ones): features..., avgpool, flatten, classifier...
    public let layers: [Layer]
    /// For each node, the nodes that read its output.
    public let consumers: [[Int]]
    /// Each node's output channels (features, for vectors).
    let channelCounts: [Int]
    /// Per node: whether its output is a map whose size follows the input's.
    let followsInputSize: [Bool]
    /// Friendly names for the modules' outputs (see `LayerNames`).
    public let names: LayerNames

    /// The index in `layers` of the first classifier module (everything before runs on images).
    public var classifierStart: Int { layers.firstIndex { $0.path.hasPrefix("classifier.") } ?? layers.count }

    /// Every parameter key with its expected shape, in module order.
    public var parameterShapes: [(key: String, shape: [Int])] { layers.flatMap(\.parameterShapes) }

    /// torchvision's VGG16 (configuration "D"): 13 3x3 convs in 5 blocks, each block ending in a 2x2 max pool.
    public static let vgg16: Architecture = {
        let config: [Int?] = [64, 64, nil, 128, 128, nil, 256, 256, 256, nil, 512, 512, 512, nil, 512, 512, 512, nil]
        var features: [LayerKind] = []
        var channels = 3
        for entry in config {
            if let width = entry {
                features.append(.conv(ConvSpec(inChannels: channels, outChannels: width, kernel: 3, padding: .symmetric(1))))
                features.append(.relu)
                channels = width
            } else {
                features.append(.maxPool(kernel: 2, stride: 2, padding: 0, ceilMode: false))
            }
        }
        let classifier: [LayerKind] = [
            .linear(inFeatures: 512 * 7 * 7, outFeatures: 4096), .relu, .dropout,
            .linear(inFeatures: 4096, outFeatures: 4096), .relu, .dropout,
            .linear(inFeatures: 4096, outFeatures: 1000),
        ]
        return Architecture(family: "vgg16", naming: .blocks, features: features, pooled: (7, 7), classifier: classifier)
    }()

    /// torchvision's AlexNet ("one weird trick" variant: 64-192-384-256-256 channels, no LRN, no groups).
    public static let alexnet: Architecture = {
        let features: [LayerKind] = [
            .conv(ConvSpec(inChannels: 3, outChannels: 64, kernel: 11, stride: 4, padding: .symmetric(2))), .relu,
            .maxPool(kernel: 3, stride: 2, padding: 0, ceilMode: false),
            .conv(ConvSpec(inChannels: 64, outChannels: 192, kernel: 5, padding: .symmetric(2))), .relu,
            .maxPool(kernel: 3, stride: 2, padding: 0, ceilMode: false),
            .conv(ConvSpec(inChannels: 192, outChannels: 384, kernel: 3, padding: .symmetric(1))), .relu,
            .conv(ConvSpec(inChannels: 384, outChannels: 256, kernel: 3, padding: .symmetric(1))), .relu,
            .conv(ConvSpec(inChannels: 256, outChannels: 256, kernel: 3, padding: .symmetric(1))), .relu,
            .maxPool(kernel: 3, stride: 2, padding: 0, ceilMode: false),
        ]
        let classifier: [LayerKind] = [
            .dropout, .linear(inFeatures: 256 * 6 * 6, outFeatures: 4096), .relu,
            .dropout, .linear(inFeatures: 4096, outFeatures: 4096), .relu,
            .linear(inFeatures: 4096, outFeatures: 1000),
        ]
        return Architecture(family: "alexnet", naming: .sequential, features: features, pooled: (6, 6), classifier: classifier)
    }()

    /// A torchvision chain: `features.N`, `avgpool`, `flatten`, `classifier.N`, each reading the one before.
    init(family: String, naming: LayerNames.Scheme, features: [LayerKind], pooled: (Int, Int), classifier: [LayerKind]) {
        var kinds = features.enumerated().map { ("features.\($0.offset)", $0.element) }
        kinds.append(("avgpool", .adaptiveAvgPool(height: pooled.0, width: pooled.1)))
        kinds.append(("flatten", .flatten))
        kinds += classifier.enumerated().map { ("classifier.\($0.offset)", $0.element) }
        let layers = kinds.enumerated().map { Layer(path: $0.element.0, kind: $0.element.1, inputs: [$0.offset - 1]) }
        self.init(family: family, validLayers: layers, names: LayerNames(layers: layers, scheme: naming))
    }

    /// A graph model (built in code or imported): nodes in topological order, named by their paths and aliases.
    /// Refuses a node that reads a later node or none, or two nodes with one name.
    public init(family: String, graph layers: [Layer]) throws {
        var seen = Set<String>()
        for (index, layer) in layers.enumerated() {
            guard !layer.inputs.isEmpty, layer.inputs.allSatisfy({ $0 >= Layer.image && $0 < index }) else {
                throw ModelError.badGraph(model: family, node: layer.path,
                                          reason: "its inputs \(layer.inputs) are not earlier nodes (the graph must be in topological order)")
            }
            for name in [layer.path] + layer.aliases where !seen.insert(name).inserted {
                throw ModelError.badGraph(model: family, node: layer.path, reason: "the name '\(name)' is used twice")
            }
        }
        self.init(family: family, validLayers: layers, names: LayerNames(layers: layers, scheme: .explicit))
    }

    private init(family: String, validLayers layers: [Layer], names: LayerNames) {
        var consumers = [[Int]](repeating: [], count: layers.count)
        for (index, layer) in layers.enumerated() {
            for input in layer.inputs where input >= 0 { consumers[input].append(index) }
        }
        self.family = family
        self.layers = layers
        self.consumers = consumers
        self.channelCounts = Self.channelCounts(layers)
        self.followsInputSize = Self.followsInputSize(layers)
        self.names = names
    }

    /// The nodes `targets` need, themselves included: what a forward pass to them computes.
    public func ancestors(of targets: Set<Int>) -> Set<Int> {
        var needed = Set<Int>(), stack = Array(targets)
        while let node = stack.popLast() {
            guard node >= 0, needed.insert(node).inserted else { continue }
            stack += layers[node].inputs
        }
        return needed
    }
}
