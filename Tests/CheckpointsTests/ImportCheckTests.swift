import Foundation
import Testing
@testable import Checkpoints

/// `weights import` checks the tensors against the model's architecture and refuses non-finite weights.
@Suite struct ImportCheckTests {
    /// Toy AlexNet-keyed tensors: weight (2, 1, 1, 1) and bias (2) per conv.
    static func alexnetTensors(values: [Float] = [1, 2]) throws -> [CheckpointTensor] {
        try WeightImport.Model.alexnet.convIndices.flatMap { index in
            [try CheckpointTensor(name: "features.\(index).weight", shape: [2, 1, 1, 1], floats: values),
             try CheckpointTensor(name: "features.\(index).bias", shape: [2], floats: [0, 0])]
        }
    }

    static var toyShapes: [(key: String, shape: [Int])] {
        WeightImport.Model.alexnet.convIndices.flatMap { [("features.\($0).weight", [2, 1, 1, 1]), ("features.\($0).bias", [2])] }
            + [("classifier.1.weight", [3, 2]), ("classifier.1.bias", [3])]
    }

    @Test func tensorsThatFitPassAndClassifierKeysMayBeAbsentAsAGroup() throws {
        try WeightImport.checkFit(try Self.alexnetTensors(), Self.toyShapes, model: .alexnet)
        let withClassifier = try Self.alexnetTensors() + [try CheckpointTensor(name: "classifier.1.weight", shape: [3, 2], floats: [Float](repeating: 0, count: 6)),
                                                           try CheckpointTensor(name: "classifier.1.bias", shape: [3], floats: [0, 0, 0])]
        try WeightImport.checkFit(withClassifier, Self.toyShapes, model: .alexnet)
    }

    @Test func mismatchesMissingAndUnexpectedKeysAreAllListed() throws {
        var tensors = try Self.alexnetTensors()
        tensors[0] = try CheckpointTensor(name: "features.0.weight", shape: [1, 2, 1, 1], floats: [1, 2])
        tensors[5] = try CheckpointTensor(name: "features.6.bias", shape: [3], floats: [0, 0, 0])
        tensors.remove(at: 3)                                                     // features.3.bias
        tensors.append(try CheckpointTensor(name: "classifier.1.bias", shape: [3], floats: [0, 0, 0]))  // without its weight
        tensors.append(try CheckpointTensor(name: "features.1.weight", shape: [1], floats: [0]))
        let error = checkpointError { try WeightImport.checkFit(tensors, Self.toyShapes, model: .alexnet) }
        guard case .weightImport(.doesNotFit("alexnet", let mismatches, let missing, let unexpected))? = error else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(mismatches == [.init(key: "features.0.weight", expected: [2, 1, 1, 1], found: [1, 2, 1, 1]),
                               .init(key: "features.6.bias", expected: [2], found: [3])])
        #expect(missing == ["features.3.bias", "classifier.1.weight"])
        #expect(unexpected == ["features.1.weight"])
        let text = error?.description ?? ""
        #expect(text.contains("features.0.weight (expected [2, 1, 1, 1], found [1, 2, 1, 1])"), "\(text)")
        #expect(text.contains("missing key(s): features.3.bias, classifier.1.weight"), "\(text)")
        #expect(text.contains("unexpected key(s): features.1.weight"), "\(text)")
    }

    static func source(_ tensors: [CheckpointTensor]) throws -> String {
        try temporaryFile(SafeTensors.encode(try Checkpoint(format: .safetensors, tensors: tensors)), name: "src.safetensors")
    }

    @Test func importRefusesWrongShapesAndWritesNothing() throws {
        let source = try Self.source(try Self.alexnetTensors())
        let output = source + ".out.safetensors"
        defer { try? FileManager.default.removeItem(atPath: source); try? FileManager.default.removeItem(atPath: output) }
        var shapes = Self.toyShapes
        shapes[4].shape = [4, 1, 1, 1]                                            // features.6.weight
        let error = checkpointError {
            try WeightImport.importWeights(source: source, model: .alexnet, output: output, expectedShapes: shapes)
        }
        #expect(error?.description.contains("src.safetensors: the weights do not fit alexnet") == true, "\(String(describing: error))")
        #expect(error?.description.contains("features.6.weight (expected [4, 1, 1, 1], found [2, 1, 1, 1])") == true)
        #expect(!FileManager.default.fileExists(atPath: output))
        // The right shapes import.
        try WeightImport.importWeights(source: source, model: .alexnet, output: output, expectedShapes: Self.toyShapes)
        #expect(try Checkpoint.load(path: output).names.count == 10)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteWeightsAreRefusedAtImportAndLoadNamingTheTensorAndCount(bad: Float) throws {
        var tensors = try Self.alexnetTensors()
        tensors[4] = try CheckpointTensor(name: "features.6.weight", shape: [2, 1, 1, 1], floats: [bad, bad])
        let source = try Self.source(tensors)
        let output = source + ".out.safetensors"
        defer { try? FileManager.default.removeItem(atPath: source); try? FileManager.default.removeItem(atPath: output) }
        let error = checkpointError { try WeightImport.importWeights(source: source, model: .alexnet, output: output) }
        guard case .tensor("features.6.weight", .nonFinite(count: 2, total: 2))? = error?.underlying else {
            Issue.record("\(String(describing: error))"); return
        }
        #expect(error?.description.contains("tensor 'features.6.weight': 2 of its 2 values are NaN or infinite") == true)
        #expect(!FileManager.default.fileExists(atPath: output))
        // At load: finiteFloats (what Network.load reads weights with) refuses the same tensor.
        let loaded = try Checkpoint.load(path: source).tensor(named: "features.6.weight")
        #expect(throws: CheckpointError.tensor("features.6.weight", .nonFinite(count: 2, total: 2))) { _ = try loaded.finiteFloats() }
        #expect(try loaded.nonFiniteCount() == 2)
        #expect(try Checkpoint.load(path: source).tensor(named: "features.0.weight").finiteFloats() == [1, 2])
    }
}
