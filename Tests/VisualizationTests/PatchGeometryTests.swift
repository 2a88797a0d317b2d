import Foundation
import ImageIO
import Models
import Testing
import TensorCore
@testable import Visualization

/// Receptive-field rectangles mapped back to original pixels, and the crops cut from them.
@Suite(.serialized) struct PatchGeometryTests {
    /// A bright square on grey: for the channel whose peak the square creates (largest rise of the map's maximum
    /// over the plain grey picture), the top patch's rectangle contains the square, at three depths.
    ///
    /// Why it must: a unit whose field misses the square sees exactly the grey picture, so its value is at most
    /// the grey maximum, below the square picture's maximum. The photo is 600 x 512, so the 256/224 policy
    /// halves it (300 x 256) and crops at (38, 16): the rectangles must undo both.
    @Test(arguments: [("conv1_2", 2), ("conv3_1", 6), ("conv4_1", 16)])
    func topPatchOfASquareContainsIt(layer: String, side: Int) throws {
        let network = Pretrained.vgg16
        let dir = try PatchPhotos.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The square at network-input pixel (100, 90), i.e. original ((100 + 38) * 2, (90 + 16) * 2).
        let (x0, y0, s) = ((100 + 38) * 2, (90 + 16) * 2, side * 2)
        let square = PatchPhotos.square(width: 600, height: 512, x: x0, y: y0, side: s)
        let grey = Image(width: 600, height: 512, channels: 3, fill: RGB(gray: 128))
        let url = dir.appendingPathComponent("square.png")
        try square.write(to: url)

        let module = try network.layer(layer)
        let geometry = ViewGeometry(originalWidth: 600, originalHeight: 512, scale: 0)
        let sizes: [Int] = [geometry.resizedWidth, geometry.resizedHeight, geometry.cropLeft, geometry.cropTop,
                            geometry.inputWidth, geometry.inputHeight]
        #expect(sizes == [300, 256, 38, 16, 224, 224])
        func peaks(_ image: Image) -> [Float] {
            let map = GradMode.withoutGrad { network.forward(geometry.input(from: image).tensor(.unit), to: module) }
            let plane = map.shape[2] * map.shape[3]
            return (0..<map.shape[1]).map { c in map.storage[(c * plane)..<((c + 1) * plane)].max()! }
        }
        let rise = zip(peaks(square), peaks(grey)).map { $0 - $1 }
        let channel = rise.indices.max { rise[$0] < rise[$1] }!
        #expect(rise[channel] > 0)

        let result = try PatchSearch.run(network: network, layers: [module], images: [url],
                                         settings: PatchSearchSettings(top: 1), filters: [layer: [channel]])
        let patch = try #require(result.layers[layer]![channel].first)
        let expected = geometry.originalRect(network.receptiveField(of: module).rectangle(row: patch.row, column: patch.column))
        #expect(patch.rect == expected)
        let r = patch.rect
        #expect(r.left <= x0 && r.top <= y0 && r.right >= x0 + s && r.bottom >= y0 + s,
                "\(layer) filter \(channel): rectangle \(r) does not contain the square at (\(x0), \(y0)) side \(s)")
        // Every field side doubles (the resize halved the photo).
        #expect(r.width == 2 * network.receptiveField(of: module).size && r.height == r.width)
    }

    /// Rectangles equal the model's receptive field pushed through crop and resize, computed here independently
    /// in floating point: left = floor((l + cropLeft) * W / Wr), right = ceil((r + cropLeft) * W / Wr).
    /// A 512 x 384 photo resizes by 384/256 (not an integer), at the 256/224 policy and at scales 200 and 320.
    @Test func rectanglesFollowResizeAndCrop() throws {
        let network = Pretrained.vgg16
        let dir = try PatchPhotos.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var pixels = [UInt8](repeating: 0, count: 512 * 384 * 3)
        var rng = SeededGenerator(seed: 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: rng.next()) }
        let url = dir.appendingPathComponent("noise.png")
        try Image(width: 512, height: 384, channels: 3, pixels: pixels).write(to: url)

        for scales in [[], [200, 320]] {
            let result = try PatchSearch.run(network: network, layers: [network.layer("conv3_1"), network.layer("conv5_3")], images: [url],
                                             settings: PatchSearchSettings(top: 6, perImage: 0, scales: scales),
                                             filters: ["conv3_1": [0, 7], "conv5_3": [3, 100]])
            for (layer, perFilter) in result.layers {
                let field = network.receptiveField(of: try network.layer(layer))
                for patch in perFilter.flatMap({ $0 }) {
                    let (wr, hr, cropX, cropY): (Double, Double, Double, Double)
                    switch patch.scale {
                    case 0: (wr, hr, cropX, cropY) = (341, 256, (117.0 / 2).rounded(.toNearestOrEven), 16)
                    case 200: (wr, hr, cropX, cropY) = (266, 200, 0, 0)
                    case 320: (wr, hr, cropX, cropY) = (426, 320, 0, 0)
                    default: Issue.record("unexpected scale \(patch.scale)"); continue
                    }
                    #expect(scales.isEmpty == (patch.scale == 0))
                    let unit = field.rectangle(row: patch.row, column: patch.column)
                    let left = Int(((Double(unit.left) + cropX) * 512 / wr).rounded(.down))
                    let right = Int(((Double(unit.right) + cropX) * 512 / wr).rounded(.up))
                    let top = Int(((Double(unit.top) + cropY) * 384 / hr).rounded(.down))
                    let bottom = Int(((Double(unit.bottom) + cropY) * 384 / hr).rounded(.up))
                    #expect(patch.rect == PixelRect(top: top, left: left, height: bottom - top, width: right - left),
                            "\(layer) scale \(patch.scale) unit (\(patch.row), \(patch.column))")
                }
            }
        }
    }

    /// A crop is the rectangle of the original photo with mid-grey outside it; `size` resizes it; a changed
    /// file is refused.
    @Test func cropsComeFromTheOriginalAndPadWithGrey() throws {
        let dir = try PatchPhotos.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var pixels = [UInt8](repeating: 0, count: 40 * 30 * 3)
        for i in pixels.indices { pixels[i] = UInt8(i % 251) }
        let original = Image(width: 40, height: 30, channels: 3, pixels: pixels)
        let url = dir.appendingPathComponent("small.png")
        try original.write(to: url)
        let (_, sha) = try PatchSearch.decodeForSearch(url)
        let patch = Patch(activation: 1, imagePath: url.path, imageSHA256: sha, scale: 0, row: 0, column: 0,
                          rect: PixelRect(top: -3, left: 30, height: 12, width: 14))
        let crop = try PatchSearch.crop(patch)
        #expect(crop.width == 14 && crop.height == 12)
        for y in 0..<12 {
            for x in 0..<14 {
                let (ox, oy) = (30 + x, -3 + y)
                let expected = ox < 40 && oy >= 0 ? Array(original.pixel(x: ox, y: oy)) : [128, 128, 128]
                #expect(Array(crop.pixel(x: x, y: y)) == expected, "crop pixel (\(x), \(y))")
            }
        }
        #expect(try PatchSearch.crop(patch, size: 32).width == 32)
        #expect(try PatchSearch.crops([patch, patch], size: 16).count == 2)
        var changed = patch
        changed.imageSHA256 = String(repeating: "0", count: 64)
        #expect(throws: PatchSearchError.self) { try PatchSearch.crop(changed) }
    }

    /// The network input is exactly ImageIO's torchvision-style `resizeShorterSide` + `centerCrop` (tested
    /// against Pillow/torchvision there), for landscape, portrait, odd and already-small sizes.
    @Test(arguments: [(517, 333), (333, 517), (300, 256), (256, 300), (200, 150), (224, 224)])
    func networkInputIsTorchvisionsPolicy(width: Int, height: Int) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in pixels.indices { pixels[i] = UInt8((i * 7 + i / 3) % 256) }
        let image = Image(width: width, height: height, channels: 3, pixels: pixels)
        let policy = ViewGeometry(originalWidth: width, originalHeight: height, scale: 0)
        #expect(policy.input(from: image) == image.resizeShorterSide(to: 256).centerCrop(width: 224, height: 224))
        let scaled = ViewGeometry(originalWidth: width, originalHeight: height, scale: 180)
        #expect(scaled.input(from: image) == image.resizeShorterSide(to: 180))
    }

    /// Integer floor/ceil division, including negative numerators (fields start left of the image).
    @Test func outwardRoundingOfNegativeCoordinates() {
        #expect(floorDiv(-7, 2) == -4 && ceilDiv(-7, 2) == -3 && floorDiv(7, 2) == 3 && ceilDiv(7, 2) == 4)
        #expect(floorDiv(-6, 3) == -2 && ceilDiv(-6, 3) == -2 && floorDiv(0, 5) == 0)
        let g = ViewGeometry(originalWidth: 512, originalHeight: 384, scale: 0)
        // Unit 0 of conv1_1 looks at input pixels -1...1; with the crop at 58 and factor 512/341 that is
        // floor(57 * 512 / 341) = 85 ... ceil(60 * 512 / 341) = 91.
        #expect(g.originalRect(PixelRect(top: -1, left: -1, height: 3, width: 3)) == PixelRect(top: 22, left: 85, height: 5, width: 6))
    }
}
