import Foundation
import Testing
@testable import Checkpoints

@Suite struct WeightImportTests {
    @Test func hwioKernelsBecomeOIHW() throws {
        // kernel[h][w][i][o] = 1000h + 100w + 10i + o, shape (2, 2, 3, 4); OIHW[o][i][h][w] must hold the same value.
        var values: [Float] = []
        for h in 0..<2 { for w in 0..<2 { for i in 0..<3 { for o in 0..<4 { values.append(Float(1000 * h + 100 * w + 10 * i + o)) } } } }
        let oihw = try WeightImport.transposeHWIOtoOIHW(try CheckpointTensor(name: "k", shape: [2, 2, 3, 4], floats: values))
        #expect(oihw.shape == [4, 3, 2, 2])
        let out = try oihw.floats()
        for o in 0..<4 { for i in 0..<3 { for h in 0..<2 { for w in 0..<2 {
            #expect(out[((o * 3 + i) * 2 + h) * 2 + w] == Float(1000 * h + 100 * w + 10 * i + o))
        } } } }
    }

    /// A fake lpips-style AlexNet checkpoint with the right names but toy shapes.
    static func lpipsAlexNet(dropping: Set<String> = []) throws -> Checkpoint {
        var tensors: [CheckpointTensor] = []
        for i in 0..<5 {
            tensors.append(try CheckpointTensor(name: "AlexNet_0.Conv_\(i).kernel", shape: [1, 2, 2, 3], floats: (0..<12).map { Float($0 + i) }))
            tensors.append(try CheckpointTensor(name: "AlexNet_0.Conv_\(i).bias", shape: [3], floats: [1, 2, Float(i)]))
        }
        tensors.append(try CheckpointTensor(name: "NetLinLayer_0.Conv_0.kernel", shape: [1, 1, 2, 1], floats: [0, 0]))
        return try Checkpoint(format: .numpyPickle, tensors: tensors.filter { !dropping.contains($0.name) })
    }

    @Test func mapsLPIPSNamesToTorchvisionKeys() throws {
        let tensors = try WeightImport.canonicalTensors(try Self.lpipsAlexNet(), model: .alexnet)
        #expect(tensors.map(\.name) == [0, 3, 6, 8, 10].flatMap { ["features.\($0).weight", "features.\($0).bias"] })
        #expect(tensors[2].shape == [3, 2, 1, 2])                 // Conv_1 kernel (1, 2, 2, 3) HWIO -> OIHW
        #expect(try tensors[3].floats() == [1, 2, 1])
    }

    @Test func namesMissingKeysAndWrongModels() throws {
        expectCheckpointError("lacks 2 of the 10", "AlexNet_0.Conv_3.kernel", "AlexNet_0.Conv_4.bias") {
            _ = try WeightImport.canonicalTensors(try Self.lpipsAlexNet(dropping: ["AlexNet_0.Conv_3.kernel", "AlexNet_0.Conv_4.bias"]), model: .alexnet)
        }
        expectCheckpointError("VGG16_0.Conv_0.kernel", "lacks 26 of the 26", "20 more") {
            _ = try WeightImport.canonicalTensors(try Self.lpipsAlexNet(), model: .vgg16TorchVision)
        }
        expectCheckpointError("--model vgg16-tv or alexnet") { _ = try WeightImport.canonicalTensors(try Self.lpipsAlexNet(), model: .vgg16) }
        let onnx = try Checkpoint.load(path: try Fixture.path("tiny.onnx"))
        expectCheckpointError("ONNX file imports as --model vgg16") { _ = try WeightImport.canonicalTensors(onnx, model: .alexnet) }
        expectCheckpointError("functional_1/block1_conv1_1/convolution/ReadVariableOp:0") {
            _ = try WeightImport.canonicalTensors(onnx, model: .vgg16)
        }
    }

    @Test func torchvisionStateDictsKeepFeaturesAndClassifierAsFloat32() throws {
        var tensors: [CheckpointTensor] = []
        for index in WeightImport.Model.alexnet.convIndices {
            let half = Data([0x00, 0x3C, 0x00, 0xC0])  // f16 [1, -2]
            tensors.append(try CheckpointTensor(name: "features.\(index).weight", dtype: .f16, shape: [2], data: half))
            tensors.append(try CheckpointTensor(name: "features.\(index).bias", shape: [1], floats: [0.5]))
        }
        tensors.append(try CheckpointTensor(name: "classifier.1.weight", shape: [1, 1], floats: [3]))
        tensors.append(try CheckpointTensor(name: "extra.thing", shape: [1], floats: [9]))
        let out = try WeightImport.canonicalTensors(try Checkpoint(format: .torchZip, tensors: tensors), model: .alexnet)
        #expect(out.count == 11 && out.allSatisfy { $0.dtype == .f32 })
        #expect(try out[0].floats() == [1, -2])
        #expect(out.last?.name == "classifier.1.weight")
    }
}
