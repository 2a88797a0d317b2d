import Foundation
import Checkpoints
import Testing
import Models
import TensorCore
@testable import Visualization

/// Same seed, same bits — on any thread count, in any batch; another seed, other images.
@Suite(.serialized) struct ReproducibilityTests {
    /// 48 px runs; the default preset's run goes 4 steps past its 16-step redirected-ReLU warm-up, so its
    /// exact-ReLU steps are pinned and thread-compared too.
    static func smallJob(filters: [Int], seed: UInt64 = 7, preset: Preset = .standard) throws -> VisualizationJob {
        var preset = preset
        preset.size = 48
        preset.steps = preset.warmupSteps > 0 ? preset.warmupSteps + 4 : 8
        return try VisualizationJob(network: Pretrained.vgg16, layer: Pretrained.vgg16.layer("conv2_1"), filters: filters, preset: preset, seed: seed, batchSize: 4)
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
    /// They catch drift only; the formulas are checked against PyTorch and finite differences elsewhere.
    static let goldenDigests: [String: String] = [
        "default": "c9ff04f5bd94240f420b2b2923443966ab4a499079c37ddc063af51cb75c60ed",
        "keras2016": "9f9b53c273c65b2ccf712d22bda81b10f481a044d53b9f99bc4363abc24070a9",
        "lucid": "503ada3137db6cc834dba1ae335eec58544544ddb4003f54ca4b64b59408d72a",
    ]
}
