import Foundation
import Testing
import TensorCore
@testable import ImageIO

@Suite("Decoding PNG and JPEG against the fixtures")
struct DecodeTests {
    /// Every fixture decodes to the expected pixels: PNG exactly (expected values come from the encoded numpy
    /// array), JPEG within the stated tolerance (Pillow's libjpeg-turbo 3.x made the reference; we link 2.1.5).
    @Test("Every PNG/JPEG fixture decodes to its expected pixels", arguments: ImageFixtures.shared.decode)
    func decodesFixture(_ c: ImageFixtures.DecodeCase) throws {
        let decoded = try Image.decode(ImageFixtures.bytes(c.file), name: c.file)
        let image = decoded.image
        #expect(image.width == c.width && image.height == c.height && image.channels == c.channels,
                "\(c.file): got \(image.width)x\(image.height)x\(image.channels)")
        let expected = ImageFixtures.bytes(c.expected)
        guard image.pixels.count == expected.count else { return }
        let diff = maxDifference(image.pixels, expected)
        #expect(diff.value <= c.tolerance,
                "\(c.file) (\(c.note)): max difference \(diff.value) at sample \(diff.index) > tolerance \(c.tolerance); first got \(Array(image.pixels.prefix(8))), expected \(Array(expected.prefix(8)))")
    }

    @Test("Header info: format, bit depth, colour model, source channels, alpha, interlace")
    func sourceInfo() throws {
        func info(_ name: String) throws -> SourceInfo { try Image.readInfo(ImageFixtures.bytes(name), name: name) }
        let gray1 = try info("gray1.png")
        #expect(gray1.format == .png && gray1.bitDepth == 1 && gray1.colorModel == "gray" && gray1.channels == 1 && !gray1.hasAlpha)
        let rgba16 = try info("rgba16_adam7.png")
        #expect(rgba16.bitDepth == 16 && rgba16.colorModel == "RGBA" && rgba16.channels == 4 && rgba16.hasAlpha && rgba16.interlaced)
        let palette = try info("palette8_trns.png")
        #expect(palette.colorModel == "palette" && palette.channels == 1 && palette.hasAlpha)
        let ga = try info("gray_alpha16.png")
        #expect(ga.colorModel == "gray+alpha" && ga.channels == 2 && ga.bitDepth == 16)
        let progressive = try info("progressive.jpg")
        #expect(progressive.format == .jpeg && progressive.interlaced && progressive.colorModel == "YCbCr" && progressive.channels == 3)
        let ycck = try info("ycck.jpg")
        #expect(ycck.colorModel == "YCCK" && ycck.channels == 4)
        let cmyk = try info("cmyk.jpg")
        #expect(cmyk.colorModel == "CMYK" && cmyk.channels == 4 && cmyk.bitDepth == 8)
        let gray = try info("gray.jpg")
        #expect(gray.colorModel == "gray" && gray.channels == 1)
    }

    @Test("EXIF orientation is read from APP1 and the upright size reported", arguments: 1...8)
    func orientationTag(_ orientation: Int) throws {
        let name = "orientation\(orientation).jpg"
        let decoded = try Image.decode(ImageFixtures.bytes(name), name: name)
        #expect(decoded.info.orientation == orientation)
        #expect(decoded.info.width == 37 && decoded.info.height == 29)
        let upright = orientation >= 5 ? (29, 37) : (37, 29)
        #expect(decoded.image.width == upright.0 && decoded.image.height == upright.1)
        let raw = try Image.decode(ImageFixtures.bytes(name), name: name, options: DecodeOptions(applyOrientation: false))
        #expect(raw.image.width == 37 && raw.image.height == 29)
    }

    @Test("Orientation transforms on a hand-checked 3 x 2 image")
    func orientationByHand() {
        // 1 2 3
        // 4 5 6
        let image = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(image.oriented(exif: 2).pixels == [3, 2, 1, 6, 5, 4])
        #expect(image.oriented(exif: 3).pixels == [6, 5, 4, 3, 2, 1])
        #expect(image.oriented(exif: 4).pixels == [4, 5, 6, 1, 2, 3])
        #expect(image.oriented(exif: 5).pixels == [1, 4, 2, 5, 3, 6])   // transpose
        #expect(image.oriented(exif: 6).pixels == [4, 1, 5, 2, 6, 3])   // 90 degrees clockwise
        #expect(image.oriented(exif: 7).pixels == [6, 3, 5, 2, 4, 1])   // transverse
        #expect(image.oriented(exif: 8).pixels == [3, 6, 2, 5, 1, 4])   // 90 degrees counter-clockwise
        #expect(image.oriented(exif: 6).width == 2 && image.oriented(exif: 6).height == 3)
    }

    @Test("Alpha: kept, or composited over a stated background with rounding to nearest")
    func alphaHandling() throws {
        let bytes = ImageFixtures.bytes("rgba8.png")
        let kept = try Image.decode(bytes, name: "rgba8.png").image
        #expect(kept.channels == 4)
        let flat = try Image.decode(bytes, name: "rgba8.png", options: DecodeOptions(alpha: .composite(over: RGB(10, 200, 30)))).image
        #expect(flat.channels == 3)
        for i in stride(from: 0, to: kept.width * kept.height, by: 7) {
            let a = Double(kept.pixels[4 * i + 3]) / 255
            for (c, bg) in [10.0, 200.0, 30.0].enumerated() {
                let exact = Double(kept.pixels[4 * i + c]) * a + bg * (1 - a)
                #expect(abs(Double(flat.pixels[3 * i + c]) - exact) <= 0.5 + 1e-9)
            }
        }
        // A hand-checked pixel: 200 at alpha 128 over 0 -> (200 * 128 + 127) / 255 = 100.89 -> 100.
        let one = Image(width: 1, height: 1, channels: 4, pixels: [200, 0, 255, 128]).compositingAlpha(over: .black)
        #expect(one.pixels == [100, 0, 128])
    }

    @Test("Gray conversion uses Pillow's ITU-R 601-2 luma")
    func grayLuma() {
        let image = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        // Pillow: L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16 -> 76 and 124 (Pillow 13 gives the same).
        #expect(image.gray().pixels == [76, 124])
    }
}

@Suite("Encoding and atomic writes")
struct EncodeTests {
    @Test("PNG round trips are exact for gray, RGB and RGBA", arguments: [1, 3, 4])
    func pngRoundTrip(_ channels: Int) throws {
        var rng = SeededGenerator(seed: UInt64(channels))
        let pixels = (0..<(23 * 17 * channels)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let image = Image(width: 23, height: 17, channels: channels, pixels: pixels)
        let back = try Image.decode(try image.pngData(), name: "roundtrip.png").image
        #expect(back == image)
    }

    @Test("JPEG round trip stays within tolerance (quality 95 on a smooth gradient: mean < 1, max <= 6)")
    func jpegRoundTrip() throws {
        // A smooth colour gradient: JPEG's loss is small there (noise would be smeared by 4:2:0 chroma).
        let w = 64, h = 48
        var pixels = [UInt8]()
        for y in 0..<h {
            for x in 0..<w { pixels += [UInt8(x * 255 / (w - 1)), UInt8(y * 255 / (h - 1)), UInt8((x + y) * 2)] }
        }
        let source = Image(width: w, height: h, channels: 3, pixels: pixels)
        let back = try Image.decode(try source.jpegData(quality: 95), name: "q95.jpg").image
        #expect(back.width == w && back.height == h && back.channels == 3)
        let diffs = zip(back.pixels, source.pixels).map { abs(Int($0) - Int($1)) }
        let mean = Double(diffs.reduce(0, +)) / Double(diffs.count)
        #expect(mean < 1, "mean abs error \(mean)")
        #expect(diffs.max()! <= 6, "max abs error \(diffs.max()!)")
        let gray = source.gray()
        let grayBack = try Image.decode(try gray.jpegData(quality: 95), name: "g.jpg").image
        #expect(grayBack.channels == 1)
        #expect(maxDifference(grayBack.pixels, gray.pixels).value <= 4)
    }

    @Test("Writes are atomic: the file appears whole, nothing is left on failure")
    func atomicWrites() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = Image(width: 4, height: 3, channels: 3, fill: RGB(1, 2, 3))
        let target = folder.appendingPathComponent("out.png")
        try image.write(to: target)
        try image.write(to: target)  // overwriting works too
        #expect(try Image(contentsOf: target) == image)
        // Failure: RGBA to JPEG is refused before anything is written.
        let rgba = Image(width: 2, height: 2, channels: 4, fill: .white)
        let jpeg = folder.appendingPathComponent("out.jpg")
        let error = expectImageError { try rgba.write(to: jpeg) }
        #expect(error?.reason.contains("alpha") == true)
        // Failure: a missing folder.
        let missing = folder.appendingPathComponent("nope/out.png")
        #expect(expectImageError { try image.write(to: missing) }?.kind == .writeFailed)
        // Failure: the target is a directory, so the rename fails after the temporary file was written.
        let dir = folder.appendingPathComponent("dir.png")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("keep").path, contents: Data())
        #expect(expectImageError { try image.write(to: dir) }?.kind == .writeFailed)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["dir.png", "out.png"], "left behind: \(left)")
    }
}
