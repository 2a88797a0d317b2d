import Foundation
import Testing
@testable import Models
import TensorCore

/// EfficientNet-Lite0/1/2 with the real weights against the reference PyTorch implementation (PyPI
/// efficientnet-lite-pytorch 0.1.0): every node on three photos within 1e-4 of the node's max, the same top-1
/// class, probabilities within 1e-5. Fixtures: Scripts/fixtures/efficientnet_lite.py.
@Suite(.serialized) struct EfficientNetForwardTests {
    struct Case: Decodable {
        struct Values: Decodable { let shape: [Int]; let data: [Float] }
        struct Params: Decodable { let model: String; let photo: String; let node: String; let size: Int; let shape: [Int]? }
        let name: String
        let params: Params
        let inputs: [String: Values]
        let outputs: [String: Values]
    }
    struct File: Decodable { let cases: [Case] }

    static func cases(_ variant: Int) throws -> [Case] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/efficientnet_lite\(variant).json", withExtension: nil))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    @Test(arguments: [0, 1, 2])
    func everyNodeMatchesPyTorch(variant: Int) throws {
        let cases = try Self.cases(variant)
        let network = try RealModels.network("efficientnet-lite\(variant)")
        #expect(network.preprocessing == .efficientNetLite)
        var checkedNodes = Set<String>()
        for photo in Set(cases.map(\.params.photo)).sorted() {
            let photoCases = cases.filter { $0.params.photo == photo && $0.params.node != "classification" && $0.params.node != "input" }
            let size = try #require(photoCases.first?.params.size)
            let input = try TestPhotos.centreCrop(photo, size: size)
            let taps = Set(try photoCases.map { try network.layer($0.params.node).node })
            let outputs = GradMode.withoutGrad { network.forward(input, taps: taps) }
            for c in photoCases {
                let act = outputs[try network.layer(c.params.node).node]!
                if let shape = c.params.shape { #expect(act.shape == shape, "\(c.name): shape \(act.shape), reference \(shape)") }
                let tolerance = 1e-4 * c.outputs["max_abs"]!.data[0]
                var worst: Float = 0
                for (i, index) in c.inputs["sample_index"]!.data.enumerated() {
                    worst = max(worst, Swift.abs(act.storage[Int(index)] - c.outputs["samples"]!.data[i]))
                }
                #expect(worst <= tolerance, "\(c.name): max |ours - PyTorch| = \(worst), allowed \(tolerance)")
                checkedNodes.insert(c.params.node)
            }
            // The classification: same top-1 (and top-5), every probability within 1e-5.
            let summary = try #require(cases.first { $0.params.photo == photo && $0.params.node == "classification" })
            let logits = try #require(outputs[try network.layer("_fc").node])
            let probabilities = GradMode.withoutGrad { softmax(logits, axis: 1) }.storage
            let reference = summary.outputs["probabilities"]!.data
            let worst = zip(probabilities, reference).map { Swift.abs($0 - $1) }.max()!
            #expect(worst <= 1e-5, "\(summary.name): probabilities differ by up to \(worst)")
            let top5 = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(5).map(Float.init)
            #expect(top5.first == summary.outputs["top5"]!.data.first, "\(summary.name): top-1 \(top5) vs \(summary.outputs["top5"]!.data)")
        }
        // Every node of the graph was compared (the fixture names them as the graph does).
        let graphNodes = Set(network.architecture.layers.map(\.path)).subtracting(["flatten", "_dropout"])
        #expect(graphNodes.subtracting(checkedNodes).isEmpty, "nodes without a reference: \(graphNodes.subtracting(checkedNodes).sorted())")
    }
}

/// The cached real weights (`make weights`), or the test says how to get them.
enum RealModels {
    static func network(_ model: String) throws -> Network {
        let url = ModelCatalog.weightsURL(for: try ModelCatalog.spec(named: model))
        try #require(FileManager.default.fileExists(atPath: url.path), "no \(url.path): run `make weights`")
        return try Network.load(model: model, weights: url)
    }
}
