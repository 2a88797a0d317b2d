import Foundation
import Testing
import Models
import TensorCore
@testable import Visualization

/// The default preset on the real weights: every sampled filter's final score beats the best real photo at the
/// same input size, and no filter is dead (the bar the issue sets; pictures are also judged by eye).
@Suite(.serialized) struct QualityTests {
    static var photos: [URL] {
        let folder = ModelCatalog.cacheDirectory.appendingPathComponent("photos")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test(arguments: [
        ("vgg16", "conv3_1", [0, 37, 101, 200]),
        ("vgg16", "conv4_1", [3, 77, 250, 411]),
        ("vgg16", "conv5_1", [0, 1, 2, 3, 4, 5]),
        ("alexnet", "conv3", [5, 60, 200, 333]),
        ("alexnet", "conv4", [1, 90, 180, 255]),
        ("alexnet", "conv5", [0, 1, 2, 3, 4, 5]),
    ])
    func defaultPresetBeatsTheBestPhotoWithNoDeadFilter(model: String, layer: String, filters: [Int]) throws {
        let photos = Self.photos
        try #require(photos.count >= 30, "the photo collection is missing: run `make photos`")
        let network = model == "vgg16" ? Pretrained.vgg16 : Pretrained.alexnet
        let job = try VisualizationJob(network: network, layer: network.layer(layer), filters: filters, preset: .standard, seed: 0, batchSize: 8)
        let results = try job.run()
        let baseline = try PhotoBaseline.measure(network: network, scoreLayer: job.taps.score, filters: filters,
                                                 photos: photos, size: job.preset.size)
        let ratios = baseline.ratios(results.map(\.score))
        print("quality \(model) \(layer): ratios \(ratios.map { String(format: "%.2f", $0) }), median \(median(ratios) ?? 0)")
        for (i, r) in results.enumerated() {
            #expect(!r.isDead, "\(model) \(layer) filter \(r.filter) is dead (score \(r.score))")
            #expect(ratios[i] >= 1, "\(model) \(layer) filter \(r.filter): score \(r.score) < best photo \(baseline.best[i]) (\(baseline.bestPhoto[i]))")
        }
    }
}
