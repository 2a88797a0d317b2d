import Testing
import Models
import TensorCore
@testable import Visualization

/// README's promise: a filter's image depends only on the seed and the settings, never on the other filters of
/// its run, the batch size, the thread count or the shard. Every preset, run past the default preset's 16-step
/// redirected-ReLU warm-up so its exact-ReLU steps are covered too, on VGG16 conv4_1 (a Winograd layer, where
/// the restricted last conv once switched algorithm with the number of filters in the batch).
@Suite(.serialized) struct BatchIndependenceTests {
    /// Each preset at 64 px with a few steps; the default keeps its two octaves and runs 8 steps past its warm-up.
    static func preset(_ name: String) throws -> Preset {
        var preset = try Preset.named(name)
        preset.size = 64
        preset.steps = name == "default" ? 24 : 6
        return preset
    }

    static func job(_ preset: Preset, filters: [Int], batch: Int) throws -> VisualizationJob {
        try VisualizationJob(network: Pretrained.vgg16, layer: Pretrained.vgg16.layer("conv4_1"), filters: filters, preset: preset, seed: 3,
                             batchSize: batch)
    }

    static func expectSame(_ a: FilterResult, _ b: FilterResult, _ what: String) {
        #expect(a.filter == b.filter)
        #expect(a.rgb.storage == b.rgb.storage, "filter \(a.filter): image differs \(what)")
        #expect(a.score.bitPattern == b.score.bitPattern, "filter \(a.filter): score \(a.score) vs \(b.score) \(what)")
        #expect(a.curve == b.curve, "filter \(a.filter): score curve differs \(what)")
    }

    @Test("Alone (--batch 1) = in a full batch of 16 = in a tail batch of 5, on 1 and 2 threads",
          arguments: ["default", "keras2016", "lucid"])
    func aloneFullAndTailBatch(_ name: String) throws {
        let preset = try Self.preset(name)
        // Filters 5 and 18 alone, one per batch, on one thread.
        let alone = try Parallel.withThreads(1) { try Self.job(preset, filters: [5, 18], batch: 1).run() }
        // --filters 0-20 at --batch 16: filter 5 in the full first batch, 18 in the tail batch of 5; two threads.
        let together = try Parallel.withThreads(2) { try Self.job(preset, filters: Array(0...20), batch: 16).run() }
        Self.expectSame(alone[0], together[5], "in a full batch of 16 (\(name))")
        Self.expectSame(alone[1], together[18], "in a tail batch of 5 (\(name))")
    }

    @Test("The same filters on 3 and 5 threads, in batches of another size and composition")
    func otherThreadCountsAndBatches() throws {
        let preset = try Self.preset("default")
        let reference = try Parallel.withThreads(1) { try Self.job(preset, filters: [5, 18], batch: 1).run() }
        let three = try Parallel.withThreads(3) { try Self.job(preset, filters: [18, 40, 5], batch: 3).run() }
        let five = try Parallel.withThreads(5) { try Self.job(preset, filters: [7, 5, 100, 18], batch: 2).run() }
        Self.expectSame(reference[0], three[2], "at --batch 3 on 3 threads")
        Self.expectSame(reference[1], three[0], "at --batch 3 on 3 threads")
        Self.expectSame(reference[0], five[1], "at --batch 2 on 5 threads")
        Self.expectSame(reference[1], five[3], "at --batch 2 on 5 threads")
    }
}
