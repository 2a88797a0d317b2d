import Checkpoints
@testable import Experiments
import FileOutput
import Foundation
import TensorCore
import Testing
import Visualization

/// A small pinned experiment: its files are pinned by hash, and threads, sharding and resuming change no byte.
@Suite(.serialized) struct ExperimentRunTests {
    /// 2 filters, 4 steps, 48 px, 2 seeds, patches over 3 photos in 2 units, one feature-map layer.
    static let pinnedConfig = """
    // The pinned test experiment (see ExperimentRunTests).
    {
      name: 'pinned',
      layers: ['conv2_1'],
      filters: '1-2',
      preset: 'keras2016',          // no warm-up: 4 steps already give live filters
      overrides: {size: 48, steps: 4},
      seeds: [0, 1],
      batch: 1,                     // one unit per filter, so sharding splits them
      photos: '\(TestPhotos.folder.path)',
      patches: {top: 2, imagesPerUnit: 2, cropSize: 24},
      featuremaps: {layers: ['block1_conv2'], photo: 'Dune.jpg', size: 32, tile: 16},
    }
    """

    static func plan() throws -> ExperimentPlan {
        try TestPhotos.prepare()
        let config = try ExperimentConfig.parse(pinnedConfig, file: "pinned.json5", defaultName: "pinned")
        return try ExperimentPlan(config: config, network: Pretrained.vgg16, file: "pinned.json5")
    }

    /// One folder per test process: two checkouts testing at once must not share (and clobber) each other's.
    static let processID = ProcessInfo.processInfo.processIdentifier

    static func freshFolder(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-experiment-tests-\(Self.processID)/\(name)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @discardableResult
    static func run(into dir: URL, shard: Shard = .whole, threads: Int = 2) throws -> ExperimentRunner.Summary {
        let runner = ExperimentRunner(plan: try plan(), output: dir)
        return try Parallel.withThreads(threads) { try runner.run(shard: shard) }
    }

    @Test func producesThePinnedTreeOfFiles() throws {
        let dir = try Self.freshFolder("pinned")
        let summary = try Self.run(into: dir)
        #expect(summary.assembled && summary.missing.isEmpty && summary.skipped.isEmpty)
        #expect(summary.computed.count == 7)  // 2 filters x 2 seeds, 2 patch parts, 1 feature-map layer
        let tree = try TreeDigest(dir)
        #expect(tree.paths == Self.pinned.keys.sorted(), "files: \(tree.paths)")
        let changed = tree.paths.filter { tree.hashes[$0] != Self.pinned[$0] }
        #expect(changed.isEmpty, "changed: \(changed); the whole tree now:\n\(tree.listing)")
        #expect(!tree.paths.contains { $0.contains(".tmp") })

        // The numbers behind the files are sane: live filters, patches best first, and the peak is measured on
        // the same tensor as the patches (relu2_1).
        let manifest = try ExperimentStore(root: dir).readJSON(ExperimentManifest.self, from: "manifest.json")
        let layer = try #require(manifest.layers.first)
        #expect(layer.scoreTensor == "relu2_1")
        for filter in layer.filters {
            #expect(filter.patches.count == 2)
            #expect(filter.patches[0].activation >= filter.patches[1].activation)
            #expect(filter.bestPatchActivation == filter.patches[0].activation)
            let summary = try #require(filter.presets.first)
            #expect(summary.seeds.map(\.seed) == [0, 1])
            #expect(summary.seedCorrelation != nil)
        }
        // patches.json lists the same records as the manifest (one type, one value, written twice).
        let listing = try ExperimentStore(root: dir).readJSON(LayerPatches.self, from: ExperimentLayout.patches(layer: "conv2_1"))
        #expect(listing.filters == layer.filters.map { FilterPatches(filter: $0.filter, patches: $0.patches) })
        #expect(listing.filters.allSatisfy { $0.strip == nil && $0.patches.allSatisfy { $0.crop != nil } })
        #expect(manifest.timings.networkSeconds > 0 && manifest.timings.networkShare > 0 && manifest.timings.networkShare <= 1)
    }

    @Test func oneAndTwoThreadsGiveTheSameBytes() throws {
        let one = try Self.freshFolder("threads1"), two = try Self.freshFolder("threads2")
        try Self.run(into: one, threads: 1)
        try Self.run(into: two, threads: 2)
        let a = try TreeDigest(one), b = try TreeDigest(two)
        #expect(a.hashes == b.hashes, "differ: \(a.differences(from: b))")
    }

    @Test func shardsThenMergeEqualsOneRun() throws {
        let whole = try Self.freshFolder("whole"), sharded = try Self.freshFolder("sharded")
        try Self.run(into: whole)
        let first = try Self.run(into: sharded, shard: Shard(index: 0, count: 2))
        #expect(!first.assembled && !first.missing.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sharded.appendingPathComponent("manifest.json").path))
        let second = try Self.run(into: sharded, shard: Shard(index: 1, count: 2))
        #expect(Set(first.computed).isDisjoint(with: second.computed))
        #expect(first.computed.count + second.computed.count == 7)
        #expect(second.assembled)  // the last shard to finish assembles; `merge` does the same explicitly:
        let merged = try Self.run(into: sharded)
        #expect(merged.computed.isEmpty && merged.assembled)
        let a = try TreeDigest(whole), b = try TreeDigest(sharded)
        #expect(a.hashes == b.hashes, "differ: \(a.differences(from: b))")
    }

    @Test func resumingRecomputesOnlyTheMissingUnit() throws {
        let dir = try Self.freshFolder("resume")
        try Self.run(into: dir)
        let before = try TreeDigest(dir)
        let again = try Self.run(into: dir)
        #expect(again.computed.isEmpty && again.skipped.count == 7)

        // Delete one unit's files: only that unit runs again, and the outputs come back byte for byte.
        let unit = "filters-conv2_1-keras2016-seed1-batch001"
        try FileManager.default.removeItem(at: dir.appendingPathComponent("conv2_1/keras2016/seed1/filter_0002.png"))
        let resumed = try Self.run(into: dir)
        #expect(resumed.computed == [unit])
        // A damaged file counts as missing too (its sha256 no longer matches the done-record).
        try Data("x".utf8).write(to: dir.appendingPathComponent("conv2_1/patches/part001.json"))
        #expect(try Self.run(into: dir).computed == ["patches-conv2_1-part001"])
        let after = try TreeDigest(dir)
        #expect(before.hashes == after.hashes, "differ: \(before.differences(from: after))")
    }

    /// sha256 of every file of the pinned run (timing files left out, manifest.json with zeroed timings), from
    /// this machine's build (host CPU target). A kernel change that moves float results (a new summation order,
    /// a new convolution algorithm) changes them: rerun this test and paste the listing it prints.
    static let pinned: [String: String] = [
        "block1_conv2/featuremaps.png": "7729687214de4e5a01b8dbc76bae7c98175ea4536ff68cd32dbf2d96088e3fd6",
        "config.json": "c0fe51aa52d791f0434d35485f53f48a17465997dd79dddb0b4b02a8ab7defbc",
        "conv2_1/filter_0001.html": "4df7e99302721f7fa42e2d295e9c1d5db04e9b8b6ce35824f2e448ca71907439",
        "conv2_1/filter_0002.html": "d5e287c147560ad1dabd62d14752dc338a0e583be320a581425a9c462c9f905e",
        "conv2_1/grid-keras2016-seed0.png": "0a15d5ae16cbb98d925f3ffed9b81aeb18b24427417644fa8242f0a07d101faf",
        "conv2_1/grid-keras2016-seed1.png": "8c86adad525e7764573d304ab7e5a0beec48db6756fc90520a8880f75acb89ab",
        "conv2_1/keras2016/seed0/filter_0001.png": "cf197e45bf176611bd7b5ef4e15307f6ea0290bbd8fc0497c9e9e32d14753d01",
        "conv2_1/keras2016/seed0/filter_0002.png": "8eabe2697d958f308a6894e185aaf4a7927609d05529685f12ab4254c6bb9f88",
        "conv2_1/keras2016/seed1/filter_0001.png": "99278f8661c2bd776e3309780368671b9e6b3a8ab09997224c64d2b68db8a825",
        "conv2_1/keras2016/seed1/filter_0002.png": "5599acdad7f02aa991113454eeb5f30a86c643ba0a1cb580f6630e799a6c6784",
        "conv2_1/patches.json": "92109308ce386adfe15e3257498b80845ec4f03f75650b1c6c62214478be8566",
        "conv2_1/patches.png": "d2cfee8adcc0a3180c302f951644757cd19f1aaa28a0e53ef74da6f3c3f8cedf",
        "conv2_1/patches/filter_0001_1.png": "80bcc6e7541252fc925adda6a9b260091bf5d54f05b69b5da80e54f6c6fb514b",
        "conv2_1/patches/filter_0001_2.png": "141ce857326d3511adfe144c4277fbdd7a9bf9d625f95b6fcc612a24c2319486",
        "conv2_1/patches/filter_0002_1.png": "1c4c5ac819e0f6641482505802cda7ec5cd8a375722e4ae2ea09357f15f6f1eb",
        "conv2_1/patches/filter_0002_2.png": "efde9867ea310abfe373f5f3b3048fec4169f445f163d82e1668a17dbe8121bd",
        "conv2_1/patches/part000.json": "816465ac6e120ac3766e92a429d8677727746a6f2a3e9e37e1959b6b41d9db29",
        "conv2_1/patches/part001.json": "be4ff612493175b5fd0391b8e312ed0e252032da6e7114a8c5572426e0293c5b",
        "featuremaps-photo.png": "5bca50ea5c54f8d1e7f27628244eefd7076005638cce7707c1825c2763c5cdc4",
        "index.html": "a0241360ae7e2eff3b008b2d88b7929ae3fa6641203e5c0a3c7b5063a463b072",
        "manifest.json": "f680fe603c64dcde0323709a686291f5545992f910ee8510b7685a173881cd03",
        "units/featuremaps-block1_conv2.json": "a93704e78097de12ef885b4dcbf8d5af3e7afb3be7c72a8b9373046867836a01",
        "units/filters-conv2_1-keras2016-seed0-batch000.json": "a83d72b59ac98ca6b0a5050508ef0d94cb773b64fa7ea4a6d79bc54d4339b51d",
        "units/filters-conv2_1-keras2016-seed0-batch001.json": "9dc754d455beb65b87b7f2f10438a62b62cf55ef3ea35024380290eac571cf65",
        "units/filters-conv2_1-keras2016-seed1-batch000.json": "af3fb3a63b76e40bb138130302361a120225fceec1a0b616318d78f147e985f7",
        "units/filters-conv2_1-keras2016-seed1-batch001.json": "07a511c7ac99d20c1166c8f4451fc7c3a49fdbf223b8e680926b86fb9ae5c8ac",
        "units/patches-conv2_1-part000.json": "ed548310c779a8a0a17f0b2642647407e9abe9b0b8303ac5675d70620091725c",
        "units/patches-conv2_1-part001.json": "4a8cbc38a93247bc3c22723d635197b53b121c2c29c36d749f992cf7c0741520",
    ]
}

/// The test photos: 3 of the cached photos, copied to a fixed folder so that paths in the outputs are pinned.
enum TestPhotos {
    static let folder = URL(fileURLWithPath: "/tmp/filtervis-test-photos", isDirectory: true)
    static let names = ["Aqua.jpg", "Blinds.jpg", "Dune.jpg"]

    static func prepare() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cache = ProcessInfo.processInfo.environment["FILTERVIS_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/filtervis")
        for name in names where !FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            try FileManager.default.copyItem(at: cache.appendingPathComponent("photos/\(name)"), to: folder.appendingPathComponent(name))
        }
    }
}

/// Every file of an output folder with its sha256; timing files are left out and manifest.json is hashed with
/// its `timings` zeroed, since only those differ between identical runs.
struct TreeDigest {
    let hashes: [String: String]

    init(_ root: URL) throws {
        var hashes: [String: String] = [:]
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }
        for relative in files {
            let url = root.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if relative.hasSuffix(".timing.json") { continue }
            var data = try Data(contentsOf: url)
            if relative == "manifest.json" {
                var manifest = try OutputJSON.decode(ExperimentManifest.self, from: data, file: relative)
                manifest.timings = .init(wallSeconds: 0, unitSeconds: 0, networkSeconds: 0, networkShare: 0, assembleSeconds: 0, threads: 0, units: [:])
                data = Data(try ExperimentStore.json(manifest))
            }
            hashes[relative] = SHA256.hex(of: data)
        }
        self.hashes = hashes
    }

    var paths: [String] { hashes.keys.sorted() }
    var listing: String { paths.map { "\($0) \(hashes[$0]!)" }.joined(separator: "\n") }

    func differences(from other: TreeDigest) -> [String] {
        Set(hashes.keys).union(other.hashes.keys).sorted().filter { hashes[$0] != other.hashes[$0] }
    }
}
