import Foundation
import ImageIO
import Models
import TensorCore
import Testing

/// `filtervis forward --save` and `featuremaps`: what they write equals the library's forward pass computed here,
/// in the test process, for the same photo; a bad layer or photo fails naming it and writes nothing.
@Suite(.serialized) struct ForwardFeatureMapsTests {
    /// Two noise photos (80 x 64 PNG) in a fresh folder.
    static func photos() throws -> URL {
        let folder = temporaryFolder()
        try OutputFixtures.photos(count: 2, in: folder)
        return folder
    }

    /// `network` to `layer` for a photo prepared as the commands do: shorter side to `resize`, centre `crop`, RGB / 255.
    static func activations(_ network: Network, layer: String, photo: URL, resize: Int, crop: Int) throws -> Tensor {
        let input = try Image(contentsOf: photo).rgb().resizeShorterSide(to: resize).centerCrop(width: crop, height: crop).tensor(.unit)
        let ref = try network.layer(layer)
        return GradMode.withoutGrad { network.forward(input, to: ref) }
    }

    @Test("forward --save writes one tensor per photo, equal to Network.forward, with model, layer and preprocessing")
    func forwardSaveEqualsTheLibrary() throws {
        let network = try RealWeights.network("vgg16")
        let folder = try Self.photos()
        defer { try? FileManager.default.removeItem(at: folder) }
        let photos = ["p00.png", "p01.png"].map { folder.appendingPathComponent($0) }
        let out = folder.appendingPathComponent("acts.safetensors")
        guard let result = try CLI.run(["forward", "--layer", "relu2_1", "--image"] + photos.map(\.path)
                                       + ["--resize", "40", "--crop", "36", "--threads", "2", "--save", out.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        let saved = try WeightsCommandTests.readSafeTensors(out)
        #expect(saved.metadata["model"] == "vgg16" && saved.metadata["layer"] == "relu2_1" && saved.metadata["preprocessing"] == "caffe",
                "\(saved.metadata)")
        #expect(Set(saved.tensors.keys) == ["p00.png", "p01.png"])
        for photo in photos {
            let expected = try Self.activations(network, layer: "relu2_1", photo: photo, resize: 40, crop: 36)
            let tensor = try #require(saved.tensors[photo.lastPathComponent])
            #expect(tensor.dtype == "F32" && tensor.shape == [1, 128, 18, 18] && tensor.shape == expected.shape, "\(tensor.shape)")
            let differing = zip(tensor.values, expected.storage).filter { $0 != $1 }.count
            #expect(differing == 0, "\(photo.lastPathComponent): \(differing) of \(expected.count) values differ from Network.forward")
            #expect(expected.storage.contains { $0 > 0 }, "an all-zero layer proves nothing")
        }
    }

    @Test("forward --save refusals: a wrong layer (exit 2, the layers listed), a bad photo after a good one (exit 1); no file")
    func forwardSaveRefusals() throws {
        let folder = try Self.photos()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("bad.png")
        try Data("not a png".utf8).write(to: bad)
        let good = folder.appendingPathComponent("p00.png").path
        let out = folder.appendingPathComponent("acts.safetensors")
        let cases: [(arguments: [String], status: Int32, mentions: [String])] = [
            (["--layer", "conv9_9", "--image", good], 2, ["conv9_9", "relu2_1", "conv5_3"]),
            (["--layer", "relu2_1", "--image", good, bad.path], 1, ["bad.png: ", "not a JPEG or PNG"]),
        ]
        for (arguments, status, mentions) in cases {
            try expectRefused(["forward"] + arguments + ["--save", out.path], status: status, mentions: mentions, leaves: folder)
        }
    }

    /// The tile of `channel` in featuremaps' grid (GridLayout margin 3, label strip 9 under each tile, ceil(sqrt(C))
    /// columns), as gray levels; nil if the pixel is not gray.
    static func tile(_ grid: Image, channel: Int, channels: Int, side: Int) -> [UInt8]? {
        let columns = Int(Double(channels).squareRoot().rounded(.up))
        let x0 = 3 + (channel % columns) * (side + 3), y0 = 3 + (channel / columns) * (side + 9 + 3)
        var levels: [UInt8] = []
        for y in 0..<side { for x in 0..<side {
            let pixel = Array(grid.pixel(x: x0 + x, y: y0 + y))
            guard pixel.allSatisfy({ $0 == pixel[0] }) else { return nil }
            levels.append(pixel[0])
        } }
        return levels
    }

    @Test("featuremaps: each tile of LAYER.png is the library's activation plane scaled to its own min..max")
    func featureMapsEqualTheLibrary() throws {
        let network = try RealWeights.network("vgg16")
        let folder = try Self.photos()
        defer { try? FileManager.default.removeItem(at: folder) }
        let photo = folder.appendingPathComponent("p01.png"), out = folder.appendingPathComponent("maps")
        // pool1 of a 32-pixel input is 16 x 16: with --tile 16 no resampling stands between the plane and the tile.
        guard let result = try CLI.run(["featuremaps", "--layer", "pool1", "--image", photo.path, "--size", "32", "--tile", "16",
                                        "--out", out.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(OutputFixtures.listing(out) == ["input.png", "pool1.png"])
        let input = try Image(contentsOf: out.appendingPathComponent("input.png"))
        #expect(input.pixels == (try Image(contentsOf: photo).rgb().resizeShorterSide(to: 32).centerCrop(width: 32, height: 32)).pixels)

        let planes = try Self.activations(network, layer: "pool1", photo: photo, resize: 32, crop: 32)
        #expect(planes.shape == [1, 64, 16, 16])
        let grid = try Image(contentsOf: out.appendingPathComponent("pool1.png"))
        #expect(grid.width == 8 * 19 + 3 && grid.height == 8 * 28 + 3, "\(grid.width) x \(grid.height)")
        var worst = 0, offByOne = 0
        for channel in 0..<64 {
            let plane = planes.storage[(channel * 256)..<((channel + 1) * 256)].map(Double.init)
            let lo = plane.min()!, hi = plane.max()!
            let levels = try #require(Self.tile(grid, channel: channel, channels: 64, side: 16), "tile \(channel) is not gray")
            for (value, level) in zip(plane, levels) {
                let want = hi > lo ? Int(((value - lo) * 255 / (hi - lo)).rounded()) : 0
                let diff = abs(want - Int(level))
                worst = max(worst, diff)
                if diff == 1 { offByOne += 1 }
            }
            #expect(levels.min() == 0 && (hi == lo || levels.max() == 255), "channel \(channel) is not scaled to its own range")
        }
        // Float32 against float64 scaling: at most a rounding step, and rarely.
        #expect(worst <= 1 && offByOne < 64 * 256 / 100, "worst \(worst), \(offByOne) off by one")
    }

    @Test("featuremaps refusals: a wrong or flat layer (exit 2), a bad photo (exit 1); the earlier run's folder is kept")
    func featureMapsRefusals() throws {
        let folder = try Self.photos()
        defer { try? FileManager.default.removeItem(at: folder) }
        let photo = folder.appendingPathComponent("p00.png"), bad = folder.appendingPathComponent("bad.jpg")
        try Data("GIF89a".utf8).write(to: bad)
        let out = folder.appendingPathComponent("maps")
        guard let first = try CLI.run(["featuremaps", "--layer", "conv1_1", "--image", photo.path, "--size", "16", "--tile", "8",
                                       "--out", out.path]) else { return }
        #expect(first.status == 0, "\(first.stderr)")
        let cases: [(arguments: [String], status: Int32, mentions: [String])] = [
            (["--layer", "conv9_9", "--image", photo.path], 2, ["conv9_9", "conv1_1", "pool5"]),
            (["--layer", "fc6", "--image", photo.path], 1, ["fc6"]),
            (["--layer", "conv1_1", "--image", bad.path], 1, ["bad.jpg: ", "a GIF?"]),
        ]
        for (arguments, status, mentions) in cases {
            try expectRefused(["featuremaps"] + arguments + ["--size", "16", "--out", out.path], status: status, mentions: mentions,
                              leaves: folder)
        }
    }
}
