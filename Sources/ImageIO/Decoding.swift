import CImageCodecs
import Foundation

/// What to do with an alpha channel when decoding.
public enum AlphaHandling: Equatable, Sendable {
    /// Keep it: images with alpha (or a PNG tRNS chunk) decode to RGBA.
    case keep
    /// Composite over an opaque colour: images with alpha decode to RGB (see `Image.compositingAlpha(over:)`).
    case composite(over: RGB)
}

/// How to decode: alpha handling, EXIF orientation, and the decompression-bomb pixel limit.
public struct DecodeOptions: Equatable, Sendable {
    /// Pillow's `Image.MAX_IMAGE_PIXELS`: 178,956,970 pixels (about 0.5 GB as RGB; a 13,000 x 13,000 photo).
    public static let defaultPixelLimit = 178_956_970

    /// Keep alpha (default) or composite it over a colour.
    public var alpha: AlphaHandling
    /// Rotate/flip JPEGs as their EXIF orientation tag says (as Pillow's `ImageOps.exif_transpose`); default on.
    public var applyOrientation: Bool
    /// Refuse images whose header claims more pixels than this, before allocating anything (nil: no limit).
    /// The CLI's `--max-pixels` sets it.
    public var pixelLimit: Int?

    /// Options; the defaults keep alpha, apply EXIF orientation and use `defaultPixelLimit`.
    public init(alpha: AlphaHandling = .keep, applyOrientation: Bool = true,
                pixelLimit: Int? = DecodeOptions.defaultPixelLimit) {
        self.alpha = alpha
        self.applyOrientation = applyOrientation
        self.pixelLimit = pixelLimit
    }
}

/// What the file itself says, before conversion to 8-bit gray/RGB/RGBA (for `filtervis image info`).
public struct SourceInfo: Equatable, Sendable {
    /// PNG or JPEG.
    public var format: ImageFormat
    /// Size as stored, before any EXIF rotation.
    public var width: Int
    public var height: Int
    /// Bits per sample in the file (PNG 1, 2, 4, 8, 16; JPEG 8).
    public var bitDepth: Int
    /// Samples per pixel in the file (a palette PNG has 1; CMYK JPEG 4).
    public var channels: Int
    /// The file's colour model: "gray", "gray+alpha", "palette", "RGB", "RGBA", "YCbCr", "CMYK", "YCCK".
    public var colorModel: String
    /// An alpha channel or a PNG tRNS transparency chunk.
    public var hasAlpha: Bool
    /// Adam7-interlaced PNG or progressive JPEG.
    public var interlaced: Bool
    /// The EXIF orientation tag, 1...8 (1 = as stored; PNGs always 1).
    public var orientation: Int
    /// Recoverable decoder warnings (e.g. libjpeg's "Corrupt JPEG data: 12 extraneous bytes").
    public var warnings: [String]

    /// The size after EXIF orientation (orientations 5...8 swap width and height).
    public var orientedSize: (width: Int, height: Int) {
        orientation >= 5 ? (height, width) : (width, height)
    }
}

/// A decoded image and what its file said.
public struct DecodedImage: Sendable {
    public var image: Image
    public var info: SourceInfo
}

// MARK: - Decoding

extension Image {
    /// Reads and decodes a PNG or JPEG file (format from its bytes, not its name).
    public init(contentsOf url: URL, options: DecodeOptions = DecodeOptions()) throws {
        self = try Image.decode(contentsOf: url, options: options).image
    }

    /// Reads and decodes a PNG or JPEG file, returning the image and the file's own description.
    public static func decode(contentsOf url: URL, options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        try decode(try readBytes(url), name: url.lastPathComponent, options: options)
    }

    /// Only the file's description (reads the whole file, decodes only the header).
    public static func info(contentsOf url: URL) throws -> SourceInfo {
        let bytes = try readBytes(url)
        return try readInfo(bytes, name: url.lastPathComponent)
    }

    /// Decodes PNG or JPEG bytes; `name` labels errors.
    public static func decode(_ data: [UInt8], name: String, options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
        var (info, header) = try readHeader(data, name: name)
        try checkPixelLimit(info, limit: options.pixelLimit, name: name)
        let count = info.width * info.height * Int(header.out_channels)
        var pixels = [UInt8](repeating: 0, count: count)
        var err = [CChar](repeating: 0, count: 512)
        var warn = [CChar](repeating: 0, count: 512)
        let status: Int32 = data.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                switch info.format {
                case .png:
                    return codec_png_decode(src.baseAddress, src.count, dst.baseAddress, dst.count, &err, err.count)
                case .jpeg:
                    return codec_jpeg_decode(src.baseAddress, src.count, dst.baseAddress, dst.count,
                                             &warn, warn.count, &err, err.count)
                }
            }
        }
        if status != 0 { throw codecError(status, format: info.format, message: codecMessage(err), name: name) }
        let warning = codecMessage(warn)
        if !warning.isEmpty { info.warnings = [warning] }
        var image = Image(width: info.width, height: info.height, channels: Int(header.out_channels), pixels: pixels)
        if options.applyOrientation && info.orientation != 1 { image = image.oriented(exif: info.orientation) }
        if case .composite(let background) = options.alpha, image.hasAlpha {
            image = image.compositingAlpha(over: background)
        }
        return DecodedImage(image: image, info: info)
    }

    /// Parses only the header of PNG or JPEG bytes.
    public static func readInfo(_ data: [UInt8], name: String) throws -> SourceInfo {
        try readHeader(data, name: name).info
    }

    // MARK: Internals

    static func readBytes(_ url: URL) throws -> [UInt8] {
        do {
            return try FileReading.bytes(of: url, limit: FileReading.imageLimit)
        } catch let error as FileReadError {
            let kind: ImageError.Kind
            switch error {
            case .tooLarge: kind = .tooLarge
            default: kind = .unreadable
            }
            // Missing files keep their full path in the reason; the file is named by its last component.
            let reason = error == .missing(path: url.path) ? "no such file (\(url.path))" : error.reason
            throw ImageError(file: url.lastPathComponent, kind: kind, reason: reason)
        }
    }

    static func readHeader(_ data: [UInt8], name: String) throws -> (info: SourceInfo, header: codec_info) {
        guard let format = ImageFormat.detect(data) else { throw ImageFormat.unrecognised(data, file: name) }
        var header = codec_info()
        var err = [CChar](repeating: 0, count: 512)
        let status: Int32 = data.withUnsafeBufferPointer { src in
            switch format {
            case .png: return codec_png_read_header(src.baseAddress, src.count, &header, &err, err.count)
            case .jpeg: return codec_jpeg_read_header(src.baseAddress, src.count, &header, &err, err.count)
            }
        }
        if status != 0 { throw codecError(status, format: format, message: codecMessage(err), name: name) }
        let info = SourceInfo(
            format: format, width: Int(header.width), height: Int(header.height),
            bitDepth: Int(header.bit_depth), channels: Int(header.source_channels),
            colorModel: colorModel(format: format, type: header.color_type),
            hasAlpha: header.has_alpha != 0, interlaced: header.interlaced != 0,
            orientation: format == .jpeg ? ExifOrientation.read(fromJPEG: data) : 1, warnings: [])
        return (info, header)
    }

    static func checkPixelLimit(_ info: SourceInfo, limit: Int?, name: String) throws {
        guard let limit else { return }
        let pixels = info.width * info.height  // both < 2^32: no overflow in Int64
        if pixels > limit {
            throw ImageError.tooLarge(file: name, reason:
                "\(info.width) x \(info.height) pixels (\(grouped(pixels))) exceeds the limit of \(grouped(limit)) "
                + "(a decompression bomb?); if the file is trusted, raise the limit with --max-pixels "
                + "(DecodeOptions.pixelLimit)")
        }
    }

    static func codecError(_ status: Int32, format: ImageFormat, message: String, name: String) -> ImageError {
        let library = format == .png ? "libpng" : "libjpeg"
        switch Int(status) {
        case Int(CODEC_TRUNCATED):
            return ImageError.truncated(file: name, reason: "truncated \(format.rawValue) data (\(library): \(message))")
        case Int(CODEC_UNSUPPORTED):
            return ImageError.unsupported(file: name, reason: "unsupported \(format.rawValue): \(message)")
        default:
            return ImageError.corrupt(file: name, reason: "corrupt \(format.rawValue) data (\(library): \(message))")
        }
    }

    static func colorModel(format: ImageFormat, type: Int32) -> String {
        switch (format, Int(type)) {
        case (.png, Int(CODEC_PNG_GRAY)): return "gray"
        case (.png, Int(CODEC_PNG_GRAY_ALPHA)): return "gray+alpha"
        case (.png, Int(CODEC_PNG_PALETTE)): return "palette"
        case (.png, Int(CODEC_PNG_RGB)): return "RGB"
        case (.png, Int(CODEC_PNG_RGBA)): return "RGBA"
        case (.jpeg, Int(CODEC_JPEG_GRAY)): return "gray"
        case (.jpeg, Int(CODEC_JPEG_RGB)): return "RGB"
        case (.jpeg, Int(CODEC_JPEG_YCBCR)): return "YCbCr"
        case (.jpeg, Int(CODEC_JPEG_CMYK)): return "CMYK"
        case (.jpeg, Int(CODEC_JPEG_YCCK)): return "YCCK"
        default: return "unknown"
        }
    }
}

/// 178956970 -> "178,956,970".
func grouped(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}

/// The versions of the linked codec libraries, e.g. "libjpeg 62 (libjpeg-turbo 2001005), libpng 1.6.39".
public var codecLibraryVersions: String { String(cString: codec_versions()) }
