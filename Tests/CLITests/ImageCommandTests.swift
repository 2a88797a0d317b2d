import Foundation
import ImageIO
import TensorCore
import Testing

@Suite("filtervis CLI: help, image info/convert/grid, exit codes")
struct ImageCommandTests {
    /// A 40 x 30 test picture (gradient) written as PNG and JPEG into `folder`.
    static func samples(in folder: URL) throws -> (png: URL, jpeg: URL) {
        var pixels = [UInt8]()
        for y in 0..<30 { for x in 0..<40 { pixels += [UInt8(x * 6), UInt8(y * 8), 128] } }
        let image = Image(width: 40, height: 30, channels: 3, pixels: pixels)
        let png = folder.appendingPathComponent("sample.png"), jpeg = folder.appendingPathComponent("sample.jpg")
        try image.write(to: png)
        try image.write(to: jpeg, quality: 90)
        return (png, jpeg)
    }

    @Test("--help explains the tool and lists the image subcommands")
    func help() throws {
        guard let root = try CLI.run(["--help"]) else { return }
        #expect(root.status == 0)
        #expect(root.stdout.contains("filtervis") && root.stdout.contains("image") && root.stdout.contains("Exit status"))
        guard let image = try CLI.run(["image", "--help"]) else { return }
        #expect(image.status == 0)
        for sub in ["info", "convert", "grid"] { #expect(image.stdout.contains(sub), "image --help lacks \(sub)") }
    }

    @Test("image info prints format, size, colour model, channels and bit depth")
    func info() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (png, jpeg) = try Self.samples(in: folder)
        guard let result = try CLI.run(["image", "info", png.path, jpeg.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(png.path): PNG, 40 x 30, RGB, 3 channels, 8-bit\n\(jpeg.path): JPEG, 40 x 30, YCbCr, 3 channels, 8-bit\n")
    }

    @Test("image convert resizes, centre-crops and writes the format its name asks for")
    func convert() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (png, _) = try Self.samples(in: folder)
        let out = folder.appendingPathComponent("small.jpg")
        guard let result = try CLI.run(["image", "convert", png.path, out.path, "--resize", "20", "--crop", "16x12", "--quality", "80"])
        else { return }
        #expect(result.status == 0, "\(result.stderr)")
        let decoded = try Image.decode(contentsOf: out)
        #expect(decoded.info.format == .jpeg && decoded.image.width == 16 && decoded.image.height == 12)
        // The same pipeline through the library gives the same picture (before JPEG's loss): within JPEG error.
        let expected = try Image(contentsOf: png).resizeShorterSide(to: 20).centerCrop(width: 16, height: 12)
        let diff = zip(decoded.image.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max()!
        #expect(diff <= 24, "max difference \(diff)")
    }

    @Test("image grid tiles and labels")
    func grid() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (png, jpeg) = try Self.samples(in: folder)
        let out = folder.appendingPathComponent("grid.png")
        guard let result = try CLI.run(["image", "grid", out.path, png.path, jpeg.path, png.path,
                                        "--columns", "2", "--labels", "--margin", "2", "--background", "#102030"])
        else { return }
        #expect(result.status == 0, "\(result.stderr)")
        let grid = try Image(contentsOf: out)
        // 2 * (40 + 2) + 2 = 86 wide; 2 * (30 + 9 + 2) + 2 = 84 high (label strip 9 at scale 1).
        #expect(grid.width == 86 && grid.height == 84)
        #expect(grid.pixel(x: 0, y: 0) == [0x10, 0x20, 0x30])
    }

    @Test("Exit status 1 with one line naming the file and the reason")
    func failedInputs() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gif = folder.appendingPathComponent("x.jpg")
        try Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8).write(to: gif)
        let out = folder.appendingPathComponent("o.png")
        guard let r1 = try CLI.run(["image", "convert", gif.path, out.path]) else { return }
        #expect(r1.status == 1 && r1.exitedNormally)
        #expect(r1.stderr == "filtervis: error: x.jpg: not a JPEG or PNG file (starts with 47 49 46 38: a GIF?)\n")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        guard let r2 = try CLI.run(["image", "info", folder.appendingPathComponent("missing.png").path]) else { return }
        #expect(r2.status == 1 && r2.stderr.hasPrefix("filtervis: error: missing.png: no such file"))
        // A bomb header is refused with the limit named; --max-pixels changes the limit.
        let (png, _) = try Self.samples(in: folder)
        guard let r3 = try CLI.run(["image", "convert", png.path, out.path, "--max-pixels", "1000"]) else { return }
        #expect(r3.status == 1 && r3.stderr.contains("40 x 30 pixels (1,200) exceeds the limit of 1,000"), "\(r3.stderr)")
    }

    @Test("Exit status 2 on usage errors", arguments: [
        ["image", "convert", "a.png"],                          // missing argument
        ["image", "convert", "a.png", "b.gif"],                 // unknown output format
        ["image", "convert", "a.png", "b.png", "--resize", "0x5"],
        ["image", "convert", "a.png", "b.png", "--crop", "banana"],
        ["image", "convert", "a.png", "b.jpg", "--quality", "101"],
        ["image", "grid", "out.png"],                           // no inputs
        ["image", "grid", "out.png", "a.png", "--columns", "0"],
        ["image", "info"],
        ["image", "frobnicate"],
        ["--no-such-flag"],
    ])
    func usageErrors(_ arguments: [String]) throws {
        guard let result = try CLI.run(arguments) else { return }
        #expect(result.status == 2 && result.exitedNormally, "\(arguments): status \(result.status), \(result.stderr)")
        #expect(!result.stderr.isEmpty)
    }

    /// Damaged files through the binary: a decode failure must be exit 1 (a message), never a signal.
    @Test("20 damaged files through `image convert`: exit 0 or 1, never a crash; truncations exit 1")
    func corruptedThroughCLI() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (png, jpeg) = try Self.samples(in: folder)
        var rng = SeededGenerator(seed: 7)
        for k in 0..<20 {
            let source = k % 2 == 0 ? png : jpeg
            var bytes = [UInt8](try Data(contentsOf: source))
            let truncated = k % 4 < 2
            if truncated {
                bytes = Array(bytes.prefix(rng.integer(in: 0...(bytes.count - 10))))
            } else {
                for _ in 0..<rng.integer(in: 1...6) { bytes[rng.integer(in: 0...(bytes.count - 1))] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            let damaged = folder.appendingPathComponent("damaged\(k).\(source.pathExtension)")
            try Data(bytes).write(to: damaged)
            guard let result = try CLI.run(["image", "convert", damaged.path, folder.appendingPathComponent("out\(k).png").path])
            else { return }
            #expect(result.exitedNormally, "damaged\(k): killed by signal \(result.status)")
            #expect(result.status == 0 || result.status == 1, "damaged\(k): status \(result.status)")
            if truncated { #expect(result.status == 1 && result.stderr.hasPrefix("filtervis: error: damaged\(k)"), "\(result.stderr)") }
            if result.status == 1 { #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)") }
        }
    }
}
