import Foundation
import Testing
import TensorCore
@testable import ImageIO

@Suite("Resampling, crops and padding against Pillow / torchvision")
struct ResizeTests {
    static func source(_ name: String) -> Image {
        try! Image.decode(ImageFixtures.bytes(name), name: name).image
    }

    /// Our port of Pillow's fixed-point separable resampler matches Pillow byte for byte (tolerance 0) for gray,
    /// RGB and RGBA (which goes through Pillow's premultiplied "RGBa" round trip, ported too).
    @Test("Resize matches Pillow byte for byte", arguments: ImageFixtures.shared.resize)
    func matchesPillow(_ c: ImageFixtures.ResizeCase) throws {
        let filter = try #require(ResamplingFilter(rawValue: c.filter))
        let out = Self.source(c.source).resized(width: c.width, height: c.height, filter: filter)
        #expect(out.width == c.width && out.height == c.height && out.channels == c.channels)
        let expected = ImageFixtures.bytes(c.expected)
        let diff = maxDifference(out.pixels, expected)
        let tolerance = 0
        #expect(diff.value <= tolerance, "\(c): max difference \(diff.value) at \(diff.index)")
    }

    @Test("torchvision Resize(s) + CenterCrop(c) on the PIL path", arguments: ImageFixtures.shared.torchvision_crop)
    func torchvisionPreprocessing(_ c: ImageFixtures.CropCase) {
        let resized = Self.source(c.source).resizeShorterSide(to: c.shorter)
        #expect([resized.width, resized.height] == c.resized)
        let out = resized.centerCrop(width: c.crop, height: c.crop)
        #expect(out.pixels == ImageFixtures.bytes(c.expected), "\(c)")
    }

    @Test("Centre-crop offsets round half to even, as Python's round()")
    func centerCropRounding() {
        // Width 8, crop 3: (8 - 3) / 2 = 2.5 -> 2. Width 10, crop 3: 3.5 -> 4. Width 9, crop 3: 3.
        let row = { (n: Int) in Image(width: n, height: 1, channels: 1, pixels: (0..<n).map { UInt8($0) }) }
        #expect(row(8).centerCrop(width: 3, height: 1).pixels == [2, 3, 4])
        #expect(row(10).centerCrop(width: 3, height: 1).pixels == [4, 5, 6])
        #expect(row(9).centerCrop(width: 3, height: 1).pixels == [3, 4, 5])
        // Larger than the image: padded with black, (5 - 2) / 2 = 1 before, 2 after.
        #expect(row(2).centerCrop(width: 5, height: 1).pixels == [0, 0, 1, 0, 0])
    }

    @Test("Padding and pasting")
    func padding() {
        let image = Image(width: 2, height: 1, channels: 1, pixels: [7, 9])
        let padded = image.padded(top: 1, left: 1, bottom: 0, right: 2, fill: RGB(gray: 5))
        #expect(padded.width == 5 && padded.height == 2)
        #expect(padded.pixels == [5, 5, 5, 5, 5, 5, 7, 9, 5, 5])
        var canvas = Image(width: 3, height: 2, channels: 1, fill: .black)
        canvas.paste(image, x: 2, y: 1)  // clipped at the right edge
        #expect(canvas.pixels == [0, 0, 0, 0, 0, 7])
    }

    @Test("Resizing gives the same bytes on 1 and 2 threads")
    func deterministicAcrossThreads() {
        let src = Self.source("resize_src_rgb.png")
        let one = Parallel.withThreads(1) { src.resized(width: 200, height: 150, filter: .bicubic) }
        let two = Parallel.withThreads(2) { src.resized(width: 200, height: 150, filter: .bicubic) }
        #expect(one == two)
    }
}
