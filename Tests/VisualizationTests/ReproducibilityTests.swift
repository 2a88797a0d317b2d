import Foundation
import Checkpoints
import Testing
import Models
import TensorCore
@testable import Visualization

/// Same seed, same bits — on any thread count, in any batch; another seed, other images.
@Suite(.serialized) struct ReproducibilityTests {
    static func smallJob(filters: [Int], seed: UInt64 = 7, preset: Preset = .standard) throws -> VisualizationJob {
        var preset = preset
        preset.size = 48
        preset.steps = 8
        return try VisualizationJob(network: Pretrained.vgg16, layer: "conv2_1", filters: filters, preset: preset, seed: seed, batchSize: 4)
    }

    static func digest(_ results: [FilterResult]) -> String {
        var hasher = SHA256()
        for r in results {
            hasher.update(r.rgb.storage.withUnsafeBufferPointer { Data(buffer: $0) })
            hasher.update(withUnsafeBytes(of: r.score.bitPattern) { Data($0) })
        }
        return hasher.finalizeHex()
    }

    @Test func identicalOnOneAndTwoThreads() throws {
        let job = try Self.smallJob(filters: [0, 5, 9])
        let one = try Parallel.withThreads(1) { try job.run() }
        let two = try Parallel.withThreads(2) { try job.run() }
        #expect(Self.digest(one) == Self.digest(two))
        #expect(one.map(\.score) == two.map(\.score))
        #expect(one.map(\.curve) == two.map(\.curve))
    }

    @Test func aFiltersImageDoesNotDependOnItsBatch() throws {
        let together = try Self.smallJob(filters: [0, 5, 9]).run()
        let alone = try Self.smallJob(filters: [5]).run()
        #expect(together[1].rgb.storage == alone[0].rgb.storage)
        #expect(together[1].score == alone[0].score)
    }

    @Test func anotherSeedGivesOtherImages() throws {
        let a = try Self.smallJob(filters: [5], seed: 1).run(), b = try Self.smallJob(filters: [5], seed: 2).run()
        #expect(a[0].rgb.storage != b[0].rgb.storage)
    }

    @Test(arguments: ["default", "keras2016", "lucid"])
    func goldenRunsArePinned(preset: String) throws {
        let results = try Self.smallJob(filters: [1, 2], preset: try Preset.named(preset)).run()
        let golden = Self.goldenDigests[preset]
        let digest = Self.digest(results)
        #expect(digest == golden, "golden \(preset) run changed: \(digest) (scores \(results.map(\.score)))")
    }

    /// SHA-256 of the float images and scores of the small runs above, on this machine's build (host CPU target).
    static let goldenDigests: [String: String] = [
        "default": "9d459d1d676f7b2e8e65da0f56cdefd882bbf54d39868d58a9db8d3a4bc71345",
        "keras2016": "1c31d8fd9af0202a5516fb2470a8b62d0f0d90813a76914e51bef416ff08630e",
        "lucid": "6ad8a079fb6105f4d66f2c00b21ec5239776ff2af71375dd7c4411f95f6898a0",
    ]
}
