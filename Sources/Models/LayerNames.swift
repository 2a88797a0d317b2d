/// The names a layer's output answers to, computed from the layer table (never hand-written per network).
///
/// Which tensor each name taps:
/// - `features.N`, `classifier.N`, `avgpool`: the output of that torchvision module.
/// - `convB_I` (VGG16) / `convK` (AlexNet), `fc6` `fc7` `fc8`: the conv or linear output **before** its ReLU
///   (the torchvision module itself; `fc8` is the class logits, also `logits`).
/// - `reluB_I` / `reluK`, `relu6`, `relu7`: the same units **after** the ReLU.
/// - Keras names keep the Keras meaning: `blockB_convI` is **after** the ReLU (Keras fuses the activation into
///   the conv layer), `blockB_pool` is the pool output.
/// - `poolB` (VGG16: pool after block B; AlexNet: pool1, pool2, pool5 named after the conv before them).
public struct LayerNames: Sendable {
    /// How a family numbers its convs: VGG by block and place in the block (`conv3_1`), AlexNet in one run (`conv3`).
    public enum Scheme: Sendable {
        /// `convB_I`, `reluB_I`, `poolB`, and the Keras names `blockB_convI` / `blockB_pool`.
        case blocks
        /// `convK`, `reluK`, and `poolK` after the conv it follows.
        case sequential
        /// Graph models: each node's path and the aliases its builder or importer gave it (preferred first).
        case explicit
    }

    /// Every accepted name, mapped to the index of the module whose output it taps.
    public let indexByName: [String: Int]
    /// The preferred friendly name for each module index (conv names for convs, etc.).
    public let preferredName: [Int: String]
    /// Names given per node (graph models), not derived from a scheme.
    private let isExplicit: Bool

    init(layers: [Layer], scheme: Scheme) {
        var byName: [String: Int] = [:]
        var preferred: [Int: String] = [:]
        func add(_ name: String, _ index: Int, preferred isPreferred: Bool = false) {
            byName[name] = index
            if isPreferred || preferred[index] == nil { preferred[index] = name }
        }
        for (index, layer) in layers.enumerated() { byName[layer.path] = index }
        if scheme == .explicit {
            for (index, layer) in layers.enumerated() {
                for name in layer.aliases { add(name, index) }
                if preferred[index] == nil { preferred[index] = layer.path }
            }
            indexByName = byName
            preferredName = preferred
            isExplicit = true
            return
        }
        isExplicit = false

        let isVGG = scheme == .blocks
        var block = 1, convInBlock = 0, convCount = 0, linearCount = 5
        var lastConvName = ""
        var lastWasLinear = false
        for (index, layer) in layers.enumerated() {
            switch layer.kind {
            case .conv:
                convInBlock += 1
                convCount += 1
                lastConvName = isVGG ? "\(block)_\(convInBlock)" : "\(convCount)"
                add("conv" + lastConvName, index, preferred: true)
                lastWasLinear = false
            case .relu:
                if lastWasLinear {
                    add("relu\(linearCount)", index, preferred: true)
                } else {
                    add("relu" + lastConvName, index, preferred: true)
                    if isVGG { add("block\(block)_conv\(convInBlock)", index) }
                }
            case .maxPool:
                let poolName = isVGG ? "pool\(block)" : "pool\(convCount)"
                add(poolName, index, preferred: true)
                if isVGG { add("block\(block)_pool", index) }
                block += 1
                convInBlock = 0
            case .linear:
                linearCount += 1
                add("fc\(linearCount)", index, preferred: true)
                if linearCount == 8 { add("logits", index) }
                lastWasLinear = true
            default:
                break
            }
        }
        for (index, layer) in layers.enumerated() where preferred[index] == nil { preferred[index] = layer.path }
        indexByName = byName
        preferredName = preferred
    }

    /// All names of one module's output, preferred first.
    public func names(of index: Int) -> [String] {
        let preferred = preferredName[index].map { [$0] } ?? []
        return preferred + indexByName.filter { $0.value == index && $0.key != preferredName[index] }.map(\.key).sorted()
    }

    /// The friendly names users pick from, in network order (convs, relus, pools, fcs).
    public var friendlyNames: [String] {
        let preferred = preferredName.sorted { $0.key < $1.key }.map(\.value)
        if isExplicit { return preferred }
        return preferred.filter { !$0.contains(".") && $0 != "avgpool" && $0 != "flatten" }
    }
}
