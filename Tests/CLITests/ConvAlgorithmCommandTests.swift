import Foundation
import Models
import TensorCore
import Testing

/// FILTERVIS_CONV=direct takes effect in the binary: `forward --save` gives exactly the library's direct-sum bits
/// (and other bits than the default Winograd run), and `visualize` records it in the manifest's "convolution".
@Suite(.serialized) struct ConvAlgorithmCommandTests {
    @Test("forward --save under FILTERVIS_CONV=direct equals ConvAlgorithm.direct in process, bit for bit, and not auto")
    func forwardBitsFollowTheSetting() throws {
        let network = try RealWeights.network("vgg16")
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try OutputFixtures.photos(count: 1, in: folder)
        let photo = folder.appendingPathComponent("p00.png")
        var saved: [String: [Float]] = [:]
        for setting in ["direct", "auto"] {
            let out = folder.appendingPathComponent("\(setting).safetensors")
            // conv2_1: 3x3, 64 input channels, the first layer Winograd takes after conv1_2.
            guard let result = try CLI.run(["forward", "--layer", "conv2_1", "--image", photo.path, "--resize", "40", "--crop", "40",
                                            "--save", out.path], environment: ["FILTERVIS_CONV": setting]) else { return }
            #expect(result.status == 0, "\(setting): \(result.stderr)")
            saved[setting] = try #require(try WeightsCommandTests.readSafeTensors(out).tensors["p00.png"]).values
        }
        for (setting, algorithm) in [("direct", ConvAlgorithm.direct), ("auto", .automatic)] {
            let expected = try ComputeSettings(convolution: algorithm).run {
                try ForwardFeatureMapsTests.activations(network, layer: "conv2_1", photo: photo, resize: 40, crop: 40)
            }
            #expect(saved[setting] == expected.storage, "FILTERVIS_CONV=\(setting) is not ComputeSettings(convolution: .\(algorithm)) in process")
        }
        let differing = zip(saved["direct"]!, saved["auto"]!).filter { $0 != $1 }.count
        #expect(differing > saved["direct"]!.count / 4, "only \(differing) of \(saved["direct"]!.count) values differ")
    }

    @Test("visualize's manifest records the convolution algorithm FILTERVIS_CONV chose; a bad value is exit 2")
    func manifestRecordsTheSetting() throws {
        for (setting, recorded) in [("direct", "direct"), ("auto", "auto"), ("", "auto")] {
            let out = temporaryFolder()
            defer { try? FileManager.default.removeItem(at: out) }
            guard let result = try CLI.run(["visualize", "--layer", "conv2_1", "--filters", "1", "--size", "32", "--steps", "2",
                                            "--no-photo-baseline", "--out", out.path], environment: ["FILTERVIS_CONV": setting]) else { return }
            #expect(result.status == 0, "\(setting): \(result.stderr)")
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as? [String: Any]
            #expect(manifest?["convolution"] as? String == recorded, "FILTERVIS_CONV=\(setting): \(manifest?["convolution"] ?? "none")")
        }
        guard let bad = try CLI.run(["visualize", "--layer", "conv2_1", "--out", temporaryFolder().path],
                                    environment: ["FILTERVIS_CONV": "winograd"]) else { return }
        #expect(bad.status == 2 && bad.stderr.contains("FILTERVIS_CONV=winograd") && bad.stderr.contains("auto, direct"), "\(bad.stderr)")
    }
}
