import Foundation
import Testing

/// `filtervis visualize` and `forward`: bad input is refused before any work with a message that says what exists;
/// a small run writes complete outputs; the same seed gives the same bytes on 1 and 2 threads.
@Suite(.serialized) struct VisualizeCommandTests {
    func expectFailure(_ arguments: [String], status: Int32 = 1, mentions: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let result = try CLI.run(arguments, sourceLocation: sourceLocation) else { return }
        #expect(result.exitedNormally, "killed by a signal", sourceLocation: sourceLocation)
        #expect(result.status == status, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(result.stderr.contains(text), "stderr lacks '\(text)': \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func unknownModelListsTheKnownOnes() throws {
        try expectFailure(["visualize", "--model", "resnet50", "--layer", "conv1", "--out", temporaryFolder().path],
                          status: 2, mentions: ["resnet50", "vgg16", "alexnet"])
    }

    @Test func unknownLayerListsTheLayers() throws {
        try expectFailure(["visualize", "--layer", "conv9_9", "--out", temporaryFolder().path], status: 2,
                          mentions: ["conv9_9", "conv3_1", "relu3_1", "features.10"])
    }

    @Test func filterOutOfRangeSaysTheRange() throws {
        try expectFailure(["visualize", "--layer", "conv1_1", "--filters", "60-70", "--out", temporaryFolder().path],
                          status: 2, mentions: ["60-70", "64 filters", "0-63"])
        try expectFailure(["visualize", "--layer", "conv1_1", "--filters", "x", "--out", temporaryFolder().path],
                          status: 2, mentions: ["'x'"])
    }

    @Test func classifierLayersNeedClassifierWeights() throws {
        try expectFailure(["visualize", "--layer", "fc6", "--out", temporaryFolder().path], mentions: ["fc6", "classifier"])
    }

    @Test func unwritableOutputFolderFailsBeforeWork() throws {
        let file = temporaryFolder().appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        try expectFailure(["visualize", "--layer", "conv1_1", "--out", file.appendingPathComponent("sub").path],
                          mentions: ["a-file", "--out"])
    }

    @Test func unknownPresetAndBadNumbersAreUsageErrors() throws {
        try expectFailure(["visualize", "--layer", "conv1_1", "--preset", "best", "--out", "/tmp/x"], status: 2, mentions: ["best", "keras2016"])
        try expectFailure(["visualize", "--layer", "conv1_1", "--size", "4", "--out", "/tmp/x"], status: 2, mentions: ["--size"])
    }

    @Test func smallRunIsCompleteAndIdenticalOnOneAndTwoThreads() throws {
        var digests: [String: Data] = [:]
        for threads in ["1", "2"] {
            let out = temporaryFolder()
            guard let result = try CLI.run(["visualize", "--layer", "conv2_1", "--filters", "3,7", "--size", "32", "--steps", "4",
                                            "--seed", "5", "--threads", threads, "--out", out.path]) else { return }
            #expect(result.status == 0, "\(result.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
            #expect(names == ["filter_0003.png", "filter_0007.png", "grid.png", "manifest.json"], "\(names)")
            for name in names where name.hasSuffix(".png") {
                let bytes = try Data(contentsOf: out.appendingPathComponent(name))
                if let previous = digests[name] { #expect(previous == bytes, "\(name) differs between 1 and 2 threads") }
                digests[name] = bytes
            }
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as! [String: Any]
            #expect(manifest["seed"] as? Int == 5)
            #expect(manifest["convolution"] as? String == "auto")
            #expect((manifest["filters"] as? [[String: Any]])?.count == 2)
            #expect(manifest["threads"] as? Int == Int(threads))
            #expect((manifest["weights"] as? [String: String])?["file_sha256"]?.count == 64)
        }
    }

    @Test("FILTERVIS_CONV and FILTERVIS_ALLOCATOR: bad values are usage errors naming the accepted ones")
    func badEnvironmentValuesAreRefused() throws {
        for (name, value, accepted) in [("FILTERVIS_CONV", "winograd", "auto, direct"), ("FILTERVIS_ALLOCATOR", "lots", "speed, memory")] {
            guard let result = try CLI.run(["--help"], environment: [name: value]) else { return }
            #expect(result.status == 2 && result.exitedNormally)
            #expect(result.stderr.contains("\(name)=\(value) is not one of: \(accepted)"), "\(result.stderr)")
        }
    }

    @Test("FILTERVIS_CONV=direct computes without Winograd: the same statistics within float rounding")
    func directConvolutionAgreesWithWinograd() throws {
        let photo = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/filtervis/photos/astronaut.png")
        let path = (ProcessInfo.processInfo.environment["FILTERVIS_CACHE"].map { URL(fileURLWithPath: $0).appendingPathComponent("photos/astronaut.png") } ?? photo).path
        func maxima(_ algorithm: String) throws -> [Double] {
            guard let result = try CLI.run(["forward", "--layer", "conv2_2", "--image", path], environment: ["FILTERVIS_CONV": algorithm])
            else { return [] }
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").dropFirst(2).compactMap { line in Double(line.split(separator: "\t")[1]) }
        }
        let winograd = try maxima("auto"), direct = try maxima("direct")
        #expect(winograd.count == 128 && direct.count == 128)
        let scale = direct.max() ?? 1
        for (a, b) in zip(winograd, direct) { #expect(abs(a - b) <= 1e-4 * scale, "\(a) vs \(b)") }
    }

    @Test func forwardPrintsPerChannelStatistics() throws {
        let photo = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/filtervis/photos/astronaut.png")
        let cache = ProcessInfo.processInfo.environment["FILTERVIS_CACHE"].map { URL(fileURLWithPath: $0).appendingPathComponent("photos/astronaut.png") } ?? photo
        guard let result = try CLI.run(["forward", "--layer", "conv1_1", "--image", cache.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2 + 64, "header, column names and 64 channels; got \(lines.count)")
        #expect(lines.dropFirst().first == "channel\tmax\tmean\targmax_row\targmax_col")
    }
}
