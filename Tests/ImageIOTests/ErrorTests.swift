import Foundation
import Testing
@testable import ImageIO

@Suite("Bad input gives clear errors")
struct ErrorTests {
    @Test("A PNG named .jpg decodes as PNG: the format comes from the bytes")
    func misnamed() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("photo.jpg")
        try Data(ImageFixtures.bytes("rgb8.png")).write(to: url)
        let decoded = try Image.decode(contentsOf: url)
        #expect(decoded.info.format == .png && decoded.image.width == 19)
    }

    @Test("Zero bytes, missing file, a directory")
    func emptyAndMissing() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = folder.appendingPathComponent("empty.png")
        _ = FileManager.default.createFile(atPath: empty.path, contents: Data())
        let e1 = expectImageError { _ = try Image(contentsOf: empty) }
        #expect(e1?.kind == .empty)
        #expect(e1?.description == "empty.png: empty file (0 bytes), not an image")
        let e2 = expectImageError { _ = try Image(contentsOf: folder.appendingPathComponent("none.jpg")) }
        #expect(e2?.kind == .unreadable && e2?.description.hasPrefix("none.jpg: no such file") == true)
        let e3 = expectImageError { _ = try Image(contentsOf: folder) }
        #expect(e3?.kind == .unreadable && e3?.reason.contains("directory") == true)
    }

    @Test("GIF, BMP, TIFF, WebP and text bytes are named in the message")
    func unsupportedFormats() {
        let cases: [([UInt8], String)] = [
            (Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8), "photo.jpg: not a JPEG or PNG file (starts with 47 49 46 38: a GIF?)"),
            ([0x42, 0x4D, 0x36, 0x00, 0, 0, 0, 0], "photo.jpg: not a JPEG or PNG file (starts with 42 4D 36 00: a BMP?)"),
            ([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], "photo.jpg: not a JPEG or PNG file (starts with 49 49 2A 00: a TIFF?)"),
            (Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8), "photo.jpg: not a JPEG or PNG file (starts with 52 49 46 46: a WebP?)"),
            (Array("hello".utf8), "photo.jpg: not a JPEG or PNG file (starts with 68 65 6C 6C)"),
        ]
        for (bytes, message) in cases {
            let error = expectImageError { _ = try Image.decode(bytes, name: "photo.jpg") }
            #expect(error?.kind == .unknownFormat)
            #expect(error?.description == message)
        }
    }

    @Test("Truncated data names the format and the library's reason")
    func truncated() throws {
        let png = ImageFixtures.bytes("rgb8.png")
        let e1 = expectImageError { _ = try Image.decode(Array(png.prefix(png.count / 2)), name: "x.png") }
        #expect(e1?.kind == .truncated)
        #expect(e1?.description.hasPrefix("x.png: truncated PNG data (libpng: ") == true, "\(String(describing: e1))")
        let jpeg = ImageFixtures.bytes("baseline.jpg")
        let e2 = expectImageError { _ = try Image.decode(Array(jpeg.prefix(jpeg.count / 2)), name: "x.jpg") }
        #expect(e2?.kind == .truncated)
        #expect(e2?.description.hasPrefix("x.jpg: truncated JPEG data (libjpeg: ") == true, "\(String(describing: e2))")
        #expect(expectImageError { _ = try Image.decode([0x89, 0x50, 0x4E], name: "s.png") }?.kind == .truncated)
    }

    /// A PNG whose IHDR (valid CRC) claims width x height, followed by a tiny IDAT.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return be32(UInt32(body.count)) + typed + be32(crc32(typed))
        }
        return ImageFormat.pngSignature + chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test("Decompression bombs are refused from the header, before allocating")
    func bombs() throws {
        let png = Self.pngHeader(width: 100_000, height: 100_000)
        let info = try Image.readInfo(png, name: "big.png")
        #expect(info.width == 100_000 && info.height == 100_000)  // the header itself is valid
        let e1 = expectImageError { _ = try Image.decode(png, name: "big.png") }
        #expect(e1?.kind == .tooLarge)
        #expect(e1?.description.hasPrefix("big.png: 100000 x 100000 pixels (10,000,000,000) exceeds the limit of 178,956,970") == true,
                "\(String(describing: e1))")
        #expect(e1?.reason.contains("--max-pixels") == true)

        // A baseline JPEG whose SOF0 claims 65000 x 65000: patch the fixture's frame header.
        var jpeg = ImageFixtures.bytes("baseline.jpg")
        let sof = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 5] = 0xFD; jpeg[sof + 6] = 0xE8; jpeg[sof + 7] = 0xFD; jpeg[sof + 8] = 0xE8  // height, width 65000
        let e2 = expectImageError { _ = try Image.decode(jpeg, name: "big.jpg") }
        #expect(e2?.kind == .tooLarge)
        #expect(e2?.description.hasPrefix("big.jpg: 65000 x 65000 pixels") == true, "\(String(describing: e2))")

        // The limit is configurable: a 19 x 13 image under a limit of 200 pixels fails, under 247 passes.
        let small = ImageFixtures.bytes("rgb8.png")
        #expect(expectImageError { _ = try Image.decode(small, name: "s.png", options: DecodeOptions(pixelLimit: 200)) }?.kind == .tooLarge)
        #expect(try Image.decode(small, name: "s.png", options: DecodeOptions(pixelLimit: 247)).image.width == 19)
    }

    @Test("A JPEG with stray bytes between markers decodes, with libjpeg's warning kept")
    func jpegWarnings() throws {
        var jpeg = ImageFixtures.bytes("baseline.jpg")
        // Junk after the first segment (APP0): libjpeg warns "3 extraneous bytes before marker 0x..".
        let afterFirst = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5]))
        jpeg.insert(contentsOf: [0x12, 0x34, 0x56], at: afterFirst)
        let decoded = try Image.decode(jpeg, name: "junk.jpg")
        #expect(decoded.info.warnings.first?.contains("extraneous bytes") == true, "\(decoded.info.warnings)")
    }
}
