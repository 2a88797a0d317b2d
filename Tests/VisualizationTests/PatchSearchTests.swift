import Foundation
import ImageIO
import Models
import Testing
import TensorCore
@testable import Visualization

/// The streaming top-k search against a brute-force sort of every activation, its determinism and merging.
@Suite(.serialized) struct PatchSearchTests {
    static let layers = ["conv3_1", "conv5_3"]
    static let photos = PatchPhotos.first(5)
    /// Computed once for the exactness tests: every activation of both layers on the 5 photos (batch 1).
    static let everything: [String: [[Patch]]] = {
        do { return try BruteForcePatches.allActivations(network: Pretrained.vgg16, layers: layers, images: photos) }
        catch { fatalError("\(error)") }
    }()

    /// Every conv3_1 activation of the first 3 photos at shorter sides 160 and 288.
    static let everythingMultiScale: [[Patch]] = {
        do {
            return try BruteForcePatches.allActivations(network: Pretrained.vgg16, layers: ["conv3_1"], images: Array(photos.prefix(3)),
                                                        scales: [160, 288])["conv3_1"]!
        } catch { fatalError("\(error)") }
    }()

    /// Streaming top-k (chunks of 4, batched forwards, bounded lists) equals sorting every activation, exactly:
    /// same activations (bit for bit: both paths run the same kernels), images, rows and columns, in order.
    @Test(arguments: [(top: 4, perImage: 0), (top: 5, perImage: 1), (top: 6, perImage: 2)])
    func streamingTopKEqualsBruteForce(top: Int, perImage: Int) throws {
        let settings = PatchSearchSettings(top: top, perImage: perImage)
        let result = try PatchSearch.run(network: Pretrained.vgg16, layers: Pretrained.vgg16.layers(Self.layers), images: Self.photos, settings: settings)
        #expect(result.imageCount == 5 && result.skipped.isEmpty)
        for layer in Self.layers {
            let streamed = result.layers[layer]!
            let all = Self.everything[layer]!
            #expect(streamed.count == all.count)
            var mismatches = 0
            for channel in all.indices {
                let expected = BruteForcePatches.select(all[channel], top: top, perImage: perImage)
                let got = streamed[channel]
                let same = got.count == expected.count && zip(got, expected).allSatisfy {
                    $0.activation == $1.activation && $0.imagePath == $1.imagePath && $0.row == $1.row && $0.column == $1.column
                }
                if !same {
                    mismatches += 1
                    if mismatches <= 3 {
                        let describe = { (patches: [Patch]) -> String in
                            patches.map { "\($0.activation)@\(URL(fileURLWithPath: $0.imagePath).lastPathComponent):\($0.row),\($0.column)" }
                                .joined(separator: " ")
                        }
                        Issue.record("\(layer) filter \(channel): got \(describe(got)), expected \(describe(expected))")
                    }
                }
                if perImage > 0 {
                    let counts = Dictionary(grouping: got, by: \.imagePath).mapValues(\.count)
                    #expect(counts.values.allSatisfy { $0 <= perImage })
                }
            }
            #expect(mismatches == 0, "\(layer): \(mismatches) of \(all.count) filters differ from the brute-force top-\(top)")
        }
    }

    /// On a graph: EfficientNet-Lite0 at a residual block's output (an add) and a depthwise conv, against the
    /// brute-force sort of every activation.
    @Test func graphModelTopKEqualsBruteForce() throws {
        let network = Pretrained.efficientNetLite0, layers = ["block5", "_blocks.3._depthwise_conv"]
        let photos = Array(Self.photos.prefix(3))
        let all = try BruteForcePatches.allActivations(network: network, layers: layers, images: photos)
        let result = try PatchSearch.run(network: network, layers: network.layers(layers), images: photos,
                                         settings: PatchSearchSettings(top: 4, perImage: 1))
        for layer in layers {
            var mismatches = 0
            for channel in all[layer]!.indices {
                let expected = BruteForcePatches.select(all[layer]![channel], top: 4, perImage: 1)
                let got = result.layers[layer]![channel]
                if got.map(\.activation) != expected.map(\.activation) || got.map(\.imagePath) != expected.map(\.imagePath)
                    || got.map(\.row) != expected.map(\.row) || got.map(\.column) != expected.map(\.column) { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(layer): \(mismatches) of \(all[layer]!.count) channels differ from the brute force")
        }
    }

    /// The same with two scales (whole photos at shorter sides 160 and 288, forwarded in batches of their own
    /// sizes): the per-image limit spans both scales, ties break by scale after the path.
    @Test(arguments: [(top: 4, perImage: 0), (top: 3, perImage: 1)])
    func multiScaleTopKEqualsBruteForce(top: Int, perImage: Int) throws {
        let photos = Array(Self.photos.prefix(3)), scales = [288, 160]
        let result = try PatchSearch.run(network: Pretrained.vgg16, layers: Pretrained.vgg16.layers(["conv3_1"]), images: photos,
                                         settings: PatchSearchSettings(top: top, perImage: perImage, scales: scales))
        let all = Self.everythingMultiScale
        var mismatches = 0
        for channel in all.indices {
            let expected = BruteForcePatches.select(all[channel], top: top, perImage: perImage)
            let got = result.layers["conv3_1"]![channel]
            if got.map(\.activation) != expected.map(\.activation) || got.map(\.imagePath) != expected.map(\.imagePath)
                || got.map(\.scale) != expected.map(\.scale) || got.map(\.row) != expected.map(\.row) || got.map(\.column) != expected.map(\.column) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(all.count) conv3_1 filters differ from the brute-force multi-scale top-\(top)")
        let usedScales = Set(result.layers["conv3_1"]!.flatMap { $0.map(\.scale) })
        #expect(usedScales == [160, 288], "both scales should win somewhere, got \(usedScales)")
    }

    /// The same patches on 1 and 2 threads, on a repeated run, and when the photos are listed in another order
    /// (paths, not listing order, break ties); two halves merged equal one run over all.
    @Test func deterministicAcrossThreadsOrderAndMerging() throws {
        let settings = PatchSearchSettings(top: 3, perImage: 1)
        let network = Pretrained.vgg16
        let one = try Parallel.withThreads(1) { try PatchSearch.run(network: network, layers: network.layers(Self.layers), images: Self.photos, settings: settings) }
        let two = try Parallel.withThreads(2) { try PatchSearch.run(network: network, layers: network.layers(Self.layers), images: Self.photos, settings: settings) }
        let again = try Parallel.withThreads(2) { try PatchSearch.run(network: network, layers: network.layers(Self.layers), images: Self.photos, settings: settings) }
        #expect(one == two)
        #expect(two == again)
        let reversed = try PatchSearch.run(network: network, layers: network.layers(Self.layers), images: Self.photos.reversed(), settings: settings)
        #expect(reversed.layers == one.layers)

        let firstHalf = try PatchSearch.run(network: network, layers: network.layers(Self.layers), images: Array(Self.photos[0..<2]), settings: settings)
        let secondHalf = try PatchSearch.run(network: network, layers: network.layers(Self.layers), images: Array(Self.photos[2...]), settings: settings)
        let merged = try PatchSearch.merge([secondHalf, firstHalf])
        #expect(merged == one)
        #expect(throws: PatchSearchError.self) { try PatchSearch.merge([firstHalf, firstHalf]) }
    }

    /// A corrupt JPEG and a 2000 x 1 sliver (it would resize to 512,000 x 256) are skipped and listed, text
    /// files (even one named .png) are not even listed, and the good photos, one in a subfolder, still count.
    @Test func corruptFilesAreSkippedAndOtherFilesIgnored() throws {
        let dir = try PatchPhotos.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let nested = dir.appendingPathComponent("nested", isDirectory: true)
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        let a = "a_" + Self.photos[0].lastPathComponent, b = "b_" + Self.photos[1].lastPathComponent
        try FileManager.default.copyItem(at: Self.photos[0], to: dir.appendingPathComponent(a))
        try FileManager.default.copyItem(at: Self.photos[1], to: nested.appendingPathComponent(b))
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49] + Array(repeating: 0x42, count: 200))
            .write(to: dir.appendingPathComponent("broken.jpg"))
        try Image(width: 2000, height: 1, channels: 3, fill: .white).write(to: dir.appendingPathComponent("sliver.png"))
        try Data("not a photo\n".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        try Data("also not a photo".utf8).write(to: dir.appendingPathComponent("fake.png"))

        let files = try PatchSearch.imageFiles(in: dir)
        #expect(files.map(\.lastPathComponent) == [a, "broken.jpg", b, "sliver.png"])
        var progress: [Int] = []
        let result = try PatchSearch.run(network: Pretrained.vgg16, layers: Pretrained.vgg16.layers(["conv2_1"]), images: files,
                                         settings: PatchSearchSettings(top: 2)) { done, total in
            #expect(total == 4)
            progress.append(done)
        }
        #expect(progress == [1, 2, 3, 4])
        #expect(result.imageCount == 2)
        #expect(result.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["broken.jpg", "sliver.png"])
        #expect(result.skipped.first?.reason.contains("broken.jpg") == true)
        #expect(result.skipped.last?.reason.contains("elongated") == true)
        #expect(result.layers["conv2_1"]!.allSatisfy { $0.count == 2 && Set($0.map(\.imagePath)).count == 2 })
    }

    @Test func badRequestsAreRefusedBeforeAnyWork() throws {
        let network = Pretrained.vgg16
        #expect(throws: ModelError.self) { try PatchSearch.run(network: network, layers: network.layers(["conv9_9"]), images: [], settings: .init()) }
        #expect(throws: PatchSearchError.self) { try PatchSearch.run(network: network, layers: network.layers(["conv1_1"]), images: [], settings: .init(top: 0)) }
        #expect(throws: PatchSearchError.self) { try PatchSearch.run(network: network, layers: network.layers(["conv5_3"]), images: [], settings: .init(scales: [8])) }
        #expect(throws: ModelError.self) { try PatchSearch.run(network: network, layers: network.layers(["conv1_1"]), images: [], settings: .init(), filters: ["conv1_1": [64]]) }
        #expect(throws: PatchSearchError.self) { try PatchSearch.imageFiles(in: URL(fileURLWithPath: "/nonexistent/photos")) }
        let error = #expect(throws: ModelError.self) { try PatchSearch.run(network: network, layers: network.layers(["conv9_9"]), images: [], settings: .init()) }
        #expect(error.map { "\($0)".contains("conv3_1") } == true, "the unknown-layer message lists the layers")
    }

    /// The JSON form reads back equal (snake_case on disk is the output convention's job: OutputFormatsDocsTests).
    @Test func resultRoundTripsThroughJSON() throws {
        let patch = Patch(activation: 1.5, imagePath: "/p/a.jpg", imageSHA256: "ab", scale: 0, row: 2, column: 3,
                          rect: PixelRect(top: -4, left: 5, height: 24, width: 25))
        let result = PatchSearchResult(model: "vgg16", settings: .init(top: 1, perImage: 0, scales: [224]),
                                       layers: ["conv3_1": [[patch], []]], skipped: [.init(path: "/p/b.jpg", reason: "bad")], imageCount: 1)
        let data = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(PatchSearchResult.self, from: data) == result)
    }
}
