@testable import Experiments
import Foundation
import Testing
import Visualization

/// The config reader: the JSON5 subset, defaults, and errors that name the key and the file.
struct ExperimentConfigTests {
    static func parse(_ text: String, file: String = "Experiments/x.json5") throws -> ExperimentConfig {
        try ExperimentConfig.parse(text, file: file, defaultName: "x")
    }

    /// The message of the error `body` throws (fails the test if it does not throw).
    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        Issue.record("expected an error")
        return ""
    }

    @Test func readsCommentsTrailingCommasUnquotedKeysAndSingleQuotes() throws {
        let config = try Self.parse("""
        // line comment
        {
          /* block
             comment */
          layers: ['conv1_1', "conv2_1",],  // trailing comma in a list
          'filters': {conv1_1: '0-3', conv2_1: [5, 7,],},
          preset: ['keras2016', 'lucid'],
          overrides: {size: 64, steps: 8, lr: 0.5,},
          seeds: [3, 1],
          photos: 'my\\'photos',
          patches: {top: 4, perImage: 2, imagesPerUnit: 5},
          batch: 4, threads: 1,
        }
        """)
        #expect(config.name == "x")
        #expect(config.model == "vgg16")
        #expect(config.layers == ["conv1_1", "conv2_1"])
        #expect(config.filters == .perLayer(["conv1_1": "0-3", "conv2_1": "5,7"]))
        #expect(config.filterSpec(for: "conv2_1") == "5,7")
        #expect(config.presets == ["keras2016", "lucid"])
        #expect(config.overrides == .init(size: 64, steps: 8, lr: 0.5))
        #expect(config.seeds == [3, 1])
        #expect(config.photos == "my'photos")
        #expect(config.patches.top == 4 && config.patches.perImage == 2 && config.patches.imagesPerUnit == 5)
        #expect(config.batch == 4 && config.threads == 1)
        #expect(config.outputs == [.filters, .patches, .report])
    }

    @Test func defaultsFillWhatIsNotSaid() throws {
        let config = try Self.parse("{layers: ['conv3_1']}")
        var expected = ExperimentConfig(name: "x")
        expected.layers = ["conv3_1"]
        #expect(config == expected)
        #expect(config.filterSpec(for: "conv3_1") == "0-15")
        #expect(config.patchLayers == ["conv3_1"])
    }

    @Test func aFeatureMapsSectionAddsTheOutput() throws {
        let config = try Self.parse("{layers: ['conv1_1'], featuremaps: {layers: ['block1_conv2'], photo: 'a.jpg'}}")
        #expect(config.outputs == [.filters, .patches, .featuremaps, .report])
        #expect(config.featuremaps == .init(layers: ["block1_conv2"], photo: "a.jpg", size: 224, tile: 96))
    }

    @Test func unknownKeysAreRefusedNamingKeyFileAndTheKnownKeys() {
        let m = Self.message { _ = try Self.parse("{\n  layrs: ['conv1_1'],\n}") }
        #expect(m.hasPrefix("Experiments/x.json5:2: unknown key 'layrs' in the config (known: name, model, layers, filters,"), "\(m)")
        let nested = Self.message { _ = try Self.parse("{layers: ['a'], patches: {topk: 3}}") }
        #expect(nested.contains("Experiments/x.json5:1: unknown key 'topk' in 'patches' (known: top, perImage,"), "\(nested)")
    }

    @Test(arguments: [
        ("{layers: ['a'], filters: 'first ten'}", "Experiments/x.json5:1: 'filters' must be a range like 0-63, a list, or 'all'"),
        ("{layers: ['a'], filters: true}", "Experiments/x.json5:1: 'filters' must be a range like 0-63, a list, or 'all'"),
        ("{layers: ['a'],\n seeds: '0'}", "Experiments/x.json5:2: 'seeds' must be a list [...], found a string"),
        ("{layers: ['a'], seeds: [1, 1]}", "'seeds' must be a non-empty list of distinct numbers"),
        ("{layers: ['a'], batch: 0}", "Experiments/x.json5:1: 'batch' must be at least 1, found 0"),
        ("{layers: ['a'], overrides: {size: 8}}", "'overrides.size' must be at least 16, found 8"),
        ("{layers: ['a'], overrides: {lr: -1}}", "'overrides.lr' must be positive"),
        ("{layers: ['a'], preset: 'keras'}", "Experiments/x.json5:1: 'preset': unknown preset 'keras'; presets: default, keras2016, lucid"),
        ("{layers: ['a'], outputs: ['grids']}", "'outputs' has 'grids'; choose from filters, patches, featuremaps, report"),
        ("{layers: ['a'], outputs: ['featuremaps']}", "'outputs' lists featuremaps but there is no 'featuremaps' section"),
        ("{filters: 'all'}", "Experiments/x.json5: 'layers' is missing"),
        ("{layers: ['a'] seeds: [1]}", "Experiments/x.json5:1: a ',' or '}' is missing after the value of 'layers'"),
        ("{layers: ['a'],\n\n name: 'x\n'}", "Experiments/x.json5:3: a string is not closed on its line"),
        ("{layers: ['a'], batch: 0x10}", "'0x10' is not a number this reader understands"),
        ("/* open\n{layers: ['a']}", "Experiments/x.json5:1: the /* comment opened here is never closed"),
    ])
    func badValuesAreRefusedNamingKeyAndFile(text: String, expected: String) {
        let m = Self.message { _ = try Self.parse(text) }
        #expect(m.contains(expected), "got: \(m)")
    }

    @Test func theShippedExperimentsParse() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Experiments")
        for name in ["lecture-vgg16", "alexnet-all", "presets-compare"] {
            let config = try ExperimentConfig.load(folder.appendingPathComponent("\(name).json5"))
            #expect(config.name == name)
        }
    }

    @Test func planErrorsNameTheKeyAndFile() throws {
        let config = try Self.parse("{layers: ['conv9_9'], outputs: ['filters']}")
        let m = Self.message { _ = try ExperimentPlan(config: config, network: Pretrained.vgg16, file: "Experiments/x.json5") }
        #expect(m.hasPrefix("Experiments/x.json5: 'layers': "), "\(m)")
        #expect(m.contains("conv9_9"))
        let range = try Self.parse("{layers: ['conv1_1'], filters: '60-70', outputs: ['filters']}")
        let m2 = Self.message { _ = try ExperimentPlan(config: range, network: Pretrained.vgg16, file: "Experiments/x.json5") }
        #expect(m2.hasPrefix("Experiments/x.json5: 'filters': "), "\(m2)")
        let stray = try Self.parse("{layers: ['conv1_1'], filters: {conv2_1: '0-3'}, outputs: ['filters']}")
        let m3 = Self.message { _ = try ExperimentPlan(config: stray, network: Pretrained.vgg16, file: "Experiments/x.json5") }
        #expect(m3.contains("'filters' names the layer 'conv2_1', which is not in 'layers'"), "\(m3)")
    }

    @Test func unitsAreAFixedListAndShardsPartitionIt() throws {
        var config = try Self.parse("{layers: ['conv1_1', 'conv2_1'], filters: '0-4', seeds: [0, 1], preset: ['keras2016', 'default'], batch: 2, outputs: ['filters']}")
        config.name = "units"
        let plan = try ExperimentPlan(config: config, network: Pretrained.vgg16, file: "x")
        // 2 layers x 2 presets x 2 seeds x 3 batches (0-1, 2-3, 4)
        #expect(plan.units.count == 24)
        #expect(plan.units[0] == .filters(layer: "conv1_1", preset: "keras2016", seed: 0, batch: 0, filters: [0, 1]))
        #expect(plan.units[2] == .filters(layer: "conv1_1", preset: "keras2016", seed: 0, batch: 2, filters: [4]))
        #expect(plan.units[3].id == "filters-conv1_1-keras2016-seed1-batch000")
        #expect(Set(plan.units.map(\.id)).count == 24)
        let shards = (0..<5).map { s in plan.units.indices.filter { Shard(index: s, count: 5).owns(position: $0) } }
        #expect(shards.flatMap { $0 }.sorted() == Array(plan.units.indices))
        #expect(try Shard(parsing: "3/8") == Shard(index: 3, count: 8))
        for bad in ["8/8", "-1/8", "1", "a/b", "1/0"] {
            #expect(Self.message { _ = try Shard(parsing: bad) }.contains("must be i/n with 0 <= i < n"))
        }
    }

    @Test("JSON5: 256 levels parse, 257 and 50,000 are refused with the line")
    func jsonDepth() throws {
        func nested(_ n: Int) -> String { String(repeating: "[", count: n) + String(repeating: "]", count: n) }
        _ = try JSON5Parser.parse(nested(256), file: "ok.json5")
        #expect(throws: ExperimentError.self) { try JSON5Parser.parse(nested(257), file: "deep.json5") }
        #expect(throws: ExperimentError.self) { try JSON5Parser.parse(String(repeating: "{a:", count: 50_000) + "1", file: "deep.json5") }
    }
}
