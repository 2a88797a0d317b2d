import Foundation
import ImageIO
import Testing
@testable import Models
import TensorCore

/// Our forward pass on the real pretrained weights against the reference runtimes (onnxruntime on the very ONNX
/// file of the Oxford VGG16 weights; PyTorch for the torchvision weights). Fixture: Scripts/fixtures/model_activations.py.
@Suite(.serialized) struct PretrainedForwardTests {
    struct Case: Decodable {
        struct Values: Decodable { let shape: [Int]; let data: [Float] }
        struct Params: Decodable { let model: String; let photo: String; let layer: String; let size: Int }
        let name: String
        let params: Params
        let inputs: [String: Values]
        let outputs: [String: Values]
    }
    struct File: Decodable { let cases: [Case] }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "Fixtures/activations.json", withExtension: nil),
              let data = try? Data(contentsOf: url), let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.cases
    }()

    /// The fixture's input sizes: the ONNX graph is fixed at 240 px; the torchvision models ran at 224.
    static func inputSize(_ model: String) -> Int { model == "vgg16" ? 240 : 224 }

    @Test(arguments: ["vgg16", "vgg16-tv", "alexnet"])
    func convActivationsMatchReferenceRuntime(model: String) throws {
        let mine = Self.cases.filter { $0.params.model == model }
        try #require(!mine.isEmpty, "fixture activations.json is missing cases for \(model)")
        let network = try Network.load(model: model)
        let size = Self.inputSize(model)
        for photo in Set(mine.map(\.params.photo)).sorted() {
            let input = try TestPhotos.centreCrop(photo, size: size)
            let photoCases = mine.filter { $0.params.photo == photo }
            let taps = Set(try photoCases.map { try network.layer($0.params.layer).node })
            let outputs = GradMode.withoutGrad { network.forward(input, taps: taps) }
            for c in photoCases {
                let act = outputs[try network.layer(c.params.layer).node]!
                let scale = c.outputs["max_abs"]!.data[0]
                let tolerance = 1e-4 * scale
                let channels = act.shape[1], plane = act.shape[2] * act.shape[3]
                var worst: Float = 0
                for (i, index) in c.inputs["sample_index"]!.data.enumerated() {
                    worst = max(worst, Swift.abs(act.storage[Int(index)] - c.outputs["samples"]!.data[i]))
                }
                for ch in 0..<channels {
                    var s = 0.0
                    for i in 0..<plane { s += Double(act.storage[ch * plane + i]) }
                    worst = max(worst, Swift.abs(Float(s / Double(plane)) - c.outputs["channel_means"]!.data[ch]))
                }
                #expect(worst <= tolerance, "\(c.name): max |ours - reference| = \(worst), allowed \(tolerance) (1e-4 x max |ref| = \(scale))")
            }
        }
    }
}

/// Real photos from `make photos`, decoded by our codecs.
enum TestPhotos {
    static var folder: URL { ModelCatalog.cacheDirectory.appendingPathComponent("photos") }

    /// RGB in [0, 1], (1, 3, size, size): the centre crop with top = (H - size) / 2, left = (W - size) / 2.
    static func centreCrop(_ name: String, size: Int) throws -> Tensor {
        let url = folder.appendingPathComponent(name)
        let image = try Image(contentsOf: url)
        let cropped = image.cropped(x: (image.width - size) / 2, y: (image.height - size) / 2, width: size, height: size)
        return cropped.rgb().tensor(.unit)
    }
}
