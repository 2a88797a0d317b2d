import ArgumentParser
import Experiments
import FileOutput
import Foundation
import ImageIO

/// `filtervis image`: look at, convert and tile image files.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Inspect, convert and tile PNG and JPEG files.",
        discussion: """
            Formats are told apart by the file's first bytes, not its name. JPEGs are turned upright as \
            their EXIF orientation says; CMYK JPEGs become RGB.
            """,
        subcommands: [Info.self, Convert.self, Grid.self])
}

extension ImageCommand {
    /// `filtervis image info FILE...`
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print format, size, colour model, channels and bit depth of image files.",
            discussion: "Reads headers only. Every file is reported; the status is 1 if any of them failed.")

        @Argument(help: "PNG or JPEG files.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one image file") }
        }

        func run() throws {
            var failures = 0
            for file in files {
                do {
                    print("\(file): \(Self.describe(try Image.info(contentsOf: URL(fileURLWithPath: file))))")
                } catch {
                    printError("filtervis: error: \(error)")
                    failures += 1
                }
            }
            if failures > 0 { throw ExitCode.failure }
        }

        /// "JPEG, 640 x 427, YCbCr, 3 channels, 8-bit, progressive, EXIF orientation 6 (upright 427 x 640)".
        static func describe(_ info: SourceInfo) -> String {
            var parts = ["\(info.format.rawValue)", "\(info.width) x \(info.height)", info.colorModel,
                         "\(info.channels) channel\(info.channels == 1 ? "" : "s")", "\(info.bitDepth)-bit"]
            if info.hasAlpha { parts.append(info.colorModel.contains("alpha") || info.colorModel == "RGBA" ? "alpha" : "tRNS transparency") }
            if info.interlaced { parts.append(info.format == .png ? "interlaced" : "progressive") }
            if info.orientation != 1 {
                let upright = info.orientedSize
                parts.append("EXIF orientation \(info.orientation) (upright \(upright.width) x \(upright.height))")
            }
            return parts.joined(separator: ", ")
        }
    }

    /// `filtervis image convert IN OUT`
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert between PNG and JPEG, optionally resizing and centre-cropping.",
            discussion: """
                The output format follows OUT's extension (.png, .jpg, .jpeg). --resize takes WxH, or one \
                number N to make the shorter side N (keeping the aspect ratio); --crop then takes the centred \
                WxH region: `--resize 256 --crop 224x224` is torchvision's ImageNet preprocessing. Resizing \
                is Pillow's antialiased bilinear. Alpha is kept in PNG output and composited over \
                --background for JPEG.
                """)

        @Argument(help: "Input PNG or JPEG.") var input: String
        @Argument(help: "Output file (.png, .jpg or .jpeg).") var output: String
        @Option(help: ArgumentHelp("Resize to WxH, or the shorter side to N.", valueName: "WxH|N")) var resize: String?
        @Option(help: ArgumentHelp("Centre crop to WxH (after --resize).", valueName: "WxH")) var crop: PixelSize?
        @Option(help: "JPEG quality, 1...100.") var quality: Int = 90
        @Option(help: "Colour under transparent pixels in JPEG output: white, black, #rrggbb or r,g,b.")
        var background: RGB = .white
        @OptionGroup var decoding: DecodeOptionGroup

        func validate() throws {
            guard ImageFormat.forWriting(path: output) != nil else {
                throw ValidationError("cannot tell the output format from '\(output)': use .png, .jpg or .jpeg")
            }
            guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1...100, got \(quality)") }
            if let resize { _ = try Self.parseResize(resize) }
        }

        enum Resize: Equatable { case exact(PixelSize), shorterSide(Int) }

        static func parseResize(_ text: String) throws -> Resize {
            if let size = PixelSize(argument: text) { return .exact(size) }
            if let n = Int(text), n > 0, n <= 65_535 { return .shorterSide(n) }
            throw ValidationError("--resize takes WxH (e.g. 224x224) or one positive number, got '\(text)'")
        }

        func run() throws {
            try runReportingErrors {
                var image = try Image(contentsOf: URL(fileURLWithPath: input), options: decoding.options())
                switch try resize.map(Self.parseResize) {
                case .exact(let size)?: image = image.resized(width: size.width, height: size.height)
                case .shorterSide(let n)?: image = image.resizeShorterSide(to: n)
                case nil: break
                }
                if let crop { image = image.centerCrop(width: crop.width, height: crop.height) }
                let url = URL(fileURLWithPath: output)
                // JPEG has no alpha: flatten it over the background (gray and RGB are written as they are).
                if ImageFormat.forWriting(path: output) == .jpeg { image = image.compositingAlpha(over: background) }
                try OutputFile.write(image, to: url, quality: quality)
                print("\(output): \(image.width) x \(image.height) \(image.channelName)")
            }
        }
    }

    /// `filtervis image grid OUT IN...`
    struct Grid: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lay images out in a grid, optionally labelled with their file names.",
            discussion: """
                Tiles take the first image's size (or --tile); others are resized by their shorter side and \
                centre-cropped to it. Alpha is composited over --background.
                """)

        @Argument(help: "Output file (.png, .jpg or .jpeg).") var output: String
        @Argument(help: "Input images, in reading order.") var inputs: [String] = []
        @Option(help: "Tiles per row (default: ceil(sqrt(count))).") var columns: Int?
        @Flag(help: "Write each file's name (without extension) under its tile.") var labels = false
        @Option(help: "Pixels between and around tiles.") var margin: Int = 4
        @Option(help: "Canvas colour: white, black, gray, #rrggbb or r,g,b.") var background: RGB = .white
        @Option(help: ArgumentHelp("Tile size (default: the first image's).", valueName: "WxH")) var tile: PixelSize?
        @Option(help: "Label size: font pixels per glyph pixel (glyphs are 5x7).") var labelScale: Int = 1
        @Option(help: "JPEG quality, 1...100.") var quality: Int = 90
        @OptionGroup var decoding: DecodeOptionGroup

        func validate() throws {
            guard ImageFormat.forWriting(path: output) != nil else {
                throw ValidationError("cannot tell the output format from '\(output)': use .png, .jpg or .jpeg")
            }
            if inputs.isEmpty { throw ValidationError("give at least one input image after OUT") }
            if let columns, columns < 1 { throw ValidationError("--columns must be at least 1, got \(columns)") }
            if margin < 0 || margin > 1000 { throw ValidationError("--margin must be 0...1000, got \(margin)") }
            if labelScale < 1 || labelScale > 16 { throw ValidationError("--label-scale must be 1...16, got \(labelScale)") }
            guard (1...100).contains(quality) else { throw ValidationError("--quality must be 1...100, got \(quality)") }
        }

        func run() throws {
            try runReportingErrors {
                let options = decoding.options(alpha: .composite(over: background))
                var images = try inputs.map { try Image(contentsOf: URL(fileURLWithPath: $0), options: options).rgb() }
                let size = tile ?? PixelSize(width: images[0].width, height: images[0].height)
                images = images.map { $0.fitted(width: size.width, height: size.height) }
                let names = labels ? inputs.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } : nil
                let layout = GridLayout(columns: columns, margin: margin, background: background, labelScale: labelScale)
                let grid = try Image.grid(images, labels: names, layout: layout)
                try OutputFile.write(grid, to: URL(fileURLWithPath: output), quality: quality)
                print("\(output): \(grid.width) x \(grid.height), \(images.count) tiles")
            }
        }
    }
}

extension Image {
    /// Exactly `width` x `height`: shorter side scaled to cover, then centre-cropped (as is when already that size).
    fileprivate func fitted(width w: Int, height h: Int) -> Image {
        if width == w && height == h { return self }
        let scale = max(Double(w) / Double(width), Double(h) / Double(height))
        let sw = max(w, Int((Double(width) * scale).rounded())), sh = max(h, Int((Double(height) * scale).rounded()))
        return resized(width: sw, height: sh).centerCrop(width: w, height: h)
    }
}
