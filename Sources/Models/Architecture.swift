/// A network's structure as data (torchvision layout), with the friendly names of its layers.
public struct Architecture: Sendable {
    /// The family name, "vgg16" or "alexnet".
    public let family: String
    /// Every module in execution order: features..., avgpool, flatten, classifier...
    public let layers: [Layer]
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
                features.append(.conv(inChannels: channels, outChannels: width, kernel: 3, stride: 1, padding: 1, dilation: 1))
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
            .conv(inChannels: 3, outChannels: 64, kernel: 11, stride: 4, padding: 2, dilation: 1), .relu,
            .maxPool(kernel: 3, stride: 2, padding: 0, ceilMode: false),
            .conv(inChannels: 64, outChannels: 192, kernel: 5, stride: 1, padding: 2, dilation: 1), .relu,
            .maxPool(kernel: 3, stride: 2, padding: 0, ceilMode: false),
            .conv(inChannels: 192, outChannels: 384, kernel: 3, stride: 1, padding: 1, dilation: 1), .relu,
            .conv(inChannels: 384, outChannels: 256, kernel: 3, stride: 1, padding: 1, dilation: 1), .relu,
            .conv(inChannels: 256, outChannels: 256, kernel: 3, stride: 1, padding: 1, dilation: 1), .relu,
            .maxPool(kernel: 3, stride: 2, padding: 0, ceilMode: false),
        ]
        let classifier: [LayerKind] = [
            .dropout, .linear(inFeatures: 256 * 6 * 6, outFeatures: 4096), .relu,
            .dropout, .linear(inFeatures: 4096, outFeatures: 4096), .relu,
            .linear(inFeatures: 4096, outFeatures: 1000),
        ]
        return Architecture(family: "alexnet", naming: .sequential, features: features, pooled: (6, 6), classifier: classifier)
    }()

    init(family: String, naming: LayerNames.Scheme, features: [LayerKind], pooled: (Int, Int), classifier: [LayerKind]) {
        var layers = features.enumerated().map { Layer(path: "features.\($0.offset)", kind: $0.element) }
        layers.append(Layer(path: "avgpool", kind: .adaptiveAvgPool(height: pooled.0, width: pooled.1)))
        layers.append(Layer(path: "flatten", kind: .flatten))
        layers += classifier.enumerated().map { Layer(path: "classifier.\($0.offset)", kind: $0.element) }
        self.family = family
        self.layers = layers
        self.names = LayerNames(layers: layers, scheme: naming)
    }
}
