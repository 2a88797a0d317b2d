import Checkpoints
import Experiments
import FileOutput
import Foundation
import ImageIO
import Models
import TensorCore
import Testing
import Visualization

/// `filtervis run` and `merge` on a tiny AlexNet experiment (2 filters, one per unit; patches over 2 photos, one
/// per unit: 4 units): the unit records and the manifest hold the numbers `VisualizationJob` and `PatchSearch`
/// give in this process, and two shards then `merge` give the unsharded run's tree byte for byte.
@Suite(.serialized) struct RunMergeCommandTests {
    static let filters = [6, 17]
    static let seed: UInt64 = 1
    /// keras2016 with the config's overrides: no warm-up, so 4 steps already give live filters.
    static var preset: Preset { var p = Preset.keras2016; p.size = 64; p.steps = 4; return p }
    static let units = ["filters-conv2-keras2016-seed1-batch000", "filters-conv2-keras2016-seed1-batch001",
                        "patches-conv2-part000", "patches-conv2-part001"]

    /// The config and its photos, made once for the suite.
    static let experiment: Result<(config: URL, photos: URL), Error> = Result {
        let photos = try LibraryReference.photos(["apple.jpg", "orange.jpg"])
        let config = temporaryFolder().appendingPathComponent("tiny.json5")
        try Data("""
            // A tiny experiment for the CLI tests (RunMergeCommandTests).
            {
              model: 'alexnet',
              layers: ['conv2'],
              filters: '6,17',
              preset: 'keras2016',
              overrides: {size: 64, steps: 4},
              seeds: [1],
              batch: 1,
              photos: '\(photos.path)',
              patches: {top: 2, imagesPerUnit: 1, cropSize: 24},
            }
            """.utf8).write(to: config)
        return (config, photos)
    }

    /// Runs `run CONFIG --out OUT [--shard S]`, expecting success; nil when it failed.
    static func run(into out: URL, shard: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result? {
        let config = try experiment.get().config
        guard let result = try CLI.run(["run", config.path, "--out", out.path, "--threads", "2"] + (shard.map { ["--shard", $0] } ?? []),
                                       sourceLocation: sourceLocation) else { return nil }
        #expect(result.exitedNormally && result.status == 0, "run \(shard ?? ""): \(result.stderr)", sourceLocation: sourceLocation)
        return result.status == 0 ? result : nil
    }

    /// The unsharded run, made once for the suite.
    static let whole: Result<URL, Error> = Result {
        let out = temporaryFolder().appendingPathComponent("whole")
        guard try run(into: out) != nil else { throw CLIBinaryMissing() }
        return out
    }

    /// An experiment folder's files, with the only things that differ between identical runs (timing files, the
    /// manifest's `timings`) taken out.
    static func tree(_ dir: URL) throws -> [String: Data] {
        var files = try OutputFixtures.snapshot(dir).filter { !$0.key.hasSuffix(".timing.json") }
        if let data = files["manifest.json"] {
            var manifest = try OutputJSON.decode(ExperimentManifest.self, from: data, file: "manifest.json")
            manifest.timings.wallSeconds = 0
            manifest.timings.unitSeconds = 0
            manifest.timings.networkSeconds = 0
            manifest.timings.networkShare = 0
            manifest.timings.assembleSeconds = 0
            manifest.timings.units = [:]
            files["manifest.json"] = Data(try OutputJSON.encode(manifest))
        }
        return files
    }

    static func differences(_ a: [String: Data], _ b: [String: Data]) -> [String] {
        Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }
    }

    @Test("run: unit records and manifest hold VisualizationJob's scores, curves, images and peaks and PatchSearch's patches")
    func matchesTheLibrary() throws {
        let network = try LibraryReference.network()
        let out = try Self.whole.get(), photos = try Self.experiment.get().photos
        let conv2 = try network.layer("conv2")
        let manifest = try OutputJSON.decode(ExperimentManifest.self, from: Data(contentsOf: out.appendingPathComponent("manifest.json")),
                                             file: "manifest.json")
        #expect(manifest.units.map(\.id) == Self.units)
        let layer = try #require(manifest.layers.first)
        let score = VisualizationJob.taps(of: conv2, tap: .postReLU, in: network).score
        #expect(manifest.layers.count == 1 && layer.layer == "conv2" && layer.scoreTensor == score.name && score.name == "relu2")

        // Patches: the best 2 over both photos (one per photo), read from the conv's post-ReLU output.
        let search = try PatchSearch.run(network: network, layers: [score], images: LibraryReference.files(in: photos),
                                         settings: PatchSearchSettings(top: 2, perImage: 1), filters: [score.name: Self.filters])
        #expect(layer.filters.map(\.filter) == Self.filters)
        for (b, filter) in Self.filters.enumerated() {
            let record = try OutputJSON.decode(UnitRecord.self, from: Data(contentsOf: out.appendingPathComponent("units/\(Self.units[b]).json")),
                                               file: Self.units[b])
            let saved = try #require(record.filters?.first)
            #expect(record.filters?.count == 1 && saved.filter == filter)

            let job = try VisualizationJob(network: network, layer: conv2, filters: [filter], preset: Self.preset, seed: Self.seed, batchSize: 1)
            let result = try #require(try job.run().first)
            #expect(saved.score == result.score && saved.curve == result.curve && saved.dead == result.isDead, "filter \(filter)")
            #expect(saved.curve.count == 4 && !saved.dead)
            let image = Image(tensor: reshape(result.rgb, [1] + result.rgb.shape))
            let file = out.appendingPathComponent(saved.image)
            #expect(saved.image == "conv2/keras2016/seed1/filter_\(String(format: "%04d", filter)).png")
            LibraryReference.expectPNG(file, equals: image)
            #expect(record.files[saved.image] == (try SHA256.hex(ofFile: file.path)))
            // The peak: the score tensor's maximum over positions on the saved 8-bit image.
            let maps = GradMode.withoutGrad { network.forward(Image.tensor([image]), to: score) }
            let plane = maps.shape[2] * maps.shape[3]
            let peak = maps.storage[(filter * plane)..<((filter + 1) * plane)].max()
            #expect(saved.peak == peak, "filter \(filter) peak")

            let summary = try #require(layer.filters[b].presets.first)
            #expect(summary.seeds.map(\.seed) == [Self.seed] && summary.seeds.first?.score == result.score && summary.seeds.first?.peak == peak)
            #expect(summary.meanScore == result.score && summary.scoreSpread == 0 && summary.seedCorrelation == nil)

            let expected = try #require(search.layers[score.name]?[filter])
            let listed = layer.filters[b].patches
            #expect(expected.count == 2 && listed.count == 2)
            for (rank, (entry, patch)) in zip(listed, expected).enumerated() {
                #expect(entry.rank == rank + 1 && entry.activation == patch.activation && entry.row == patch.row
                        && entry.column == patch.column && entry.rect == patch.rect && entry.scale == patch.scale
                        && entry.sha256 == patch.imageSHA256 && entry.photo == URL(fileURLWithPath: patch.imagePath).lastPathComponent,
                        "filter \(filter) patch \(rank + 1): \(entry) vs \(patch)")
                LibraryReference.expectPNG(out.appendingPathComponent(try #require(entry.crop)), equals: try PatchSearch.crop(patch, size: 24))
            }
            #expect(layer.filters[b].bestPatchActivation == expected[0].activation)
            #expect(summary.peakOverBestPatch == peak.map { $0 / expected[0].activation })
        }
    }

    @Test("run --shard 0/2, --shard 1/2, then merge: the unsharded run's tree byte for byte; merge refuses while units are missing")
    func shardsThenMergeEqualTheWholeRun() throws {
        let reference = try Self.tree(try Self.whole.get())
        #expect(reference.keys.contains("index.html") && reference.keys.contains("conv2/patches.png"))
        let parent = temporaryFolder(), out = parent.appendingPathComponent("sharded")
        defer { try? FileManager.default.removeItem(at: parent) }

        guard let first = try Self.run(into: out, shard: "0/2") else { return }
        #expect(first.stderr.contains("2 unit(s) of other shards still missing"), "\(first.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.json").path))
        try expectRefused(["merge", out.path], status: 1, mentions: [out.path, "2 of 4 unit(s) are not done", Self.units[1], "rerun the shards"],
                          leaves: parent)

        // The last shard to finish assembles the report itself.
        guard try Self.run(into: out, shard: "1/2") != nil else { return }
        var tree = try Self.tree(out)
        #expect(Self.differences(tree, reference).isEmpty, "after both shards, differ: \(Self.differences(tree, reference))")

        // Everything assembled removed, only the units' files left: merge makes the same tree again.
        let kept = try Set(Self.units.flatMap { id in
            try OutputJSON.decode(UnitRecord.self, from: Data(contentsOf: out.appendingPathComponent("units/\(id).json")), file: id).files.keys
        })
        let assembled = tree.keys.filter { !$0.hasPrefix("units/") && $0 != "config.json" && !kept.contains($0) }
        #expect(assembled.contains("manifest.json") && assembled.contains("index.html") && assembled.contains("conv2/grid-keras2016-seed1.png"))
        for path in assembled { try FileManager.default.removeItem(at: out.appendingPathComponent(path)) }
        guard let merged = try CLI.run(["merge", out.path]) else { return }
        #expect(merged.exitedNormally && merged.status == 0, "\(merged.stderr)")
        tree = try Self.tree(out)
        #expect(Self.differences(tree, reference).isEmpty, "after merge, differ: \(Self.differences(tree, reference))")
        #expect(OutputFixtures.listing(parent) == ["sharded"], "left beside the folder")
    }
}
