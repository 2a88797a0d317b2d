import Foundation

/// An 8-bit image in memory: gray (1 channel), RGB (3) or RGBA (4), rows top to bottom, channels interleaved.
///
/// `Image` is a value type; every operation returns a new image. Pixel `(x, y)` channel `c` lives at
/// `pixels[(y * width + x) * channels + c]`.
public struct Image: Equatable, Sendable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Samples per pixel: 1 (gray), 3 (RGB) or 4 (RGBA, alpha not premultiplied).
    public let channels: Int
    /// `width * height * channels` samples, row-major.
    public var pixels: [UInt8]

    /// Wraps existing samples; the count must be `width * height * channels` and channels 1, 3 or 4.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "Image: negative size \(width) x \(height)")
        precondition([1, 3, 4].contains(channels), "Image: \(channels) channels (1 gray, 3 RGB or 4 RGBA)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(width) x \(height) x \(channels) needs \(width * height * channels) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image filled with one colour (gray uses the colour's red sample; RGBA is opaque).
    public init(width: Int, height: Int, channels: Int = 3, fill: RGB) {
        let pixel: [UInt8] = channels == 1 ? [fill.r] : channels == 3 ? [fill.r, fill.g, fill.b]
            : [fill.r, fill.g, fill.b, 255]
        var samples = [UInt8]()
        samples.reserveCapacity(width * height * channels)
        for _ in 0..<(width * height) { samples.append(contentsOf: pixel) }
        self.init(width: width, height: height, channels: channels, pixels: samples)
    }

    /// Whether the image carries an alpha channel.
    public var hasAlpha: Bool { channels == 4 }

    /// The samples of pixel `(x, y)`.
    public func pixel(x: Int, y: Int) -> ArraySlice<UInt8> {
        let start = (y * width + x) * channels
        return pixels[start..<(start + channels)]
    }

    /// "RGB", "RGBA" or "gray", for messages and `image info`.
    public var channelName: String { channels == 1 ? "gray" : channels == 3 ? "RGB" : "RGBA" }
}

/// An 8-bit RGB colour (backgrounds, label text, fills); prints as "#rrggbb".
public struct RGB: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8
    /// A colour from its three samples.
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }
    /// A gray level.
    public init(gray: UInt8) { self.init(gray, gray, gray) }
    public static let white = RGB(255, 255, 255)
    public static let black = RGB(0, 0, 0)

    public var description: String { String(format: "#%02x%02x%02x", r, g, b) }

    /// Parses "white", "black", "gray", "#rrggbb", "rrggbb" or "r,g,b" (0...255 each); nil if it is none of these.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "white": self = .white; return
        case "black": self = .black; return
        case "gray", "grey": self = RGB(gray: 128); return
        default: break
        }
        let parts = t.split(separator: ",", omittingEmptySubsequences: false)
        if parts.count == 3 {
            let values = parts.compactMap { UInt8($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 3 else { return nil }
            self.init(values[0], values[1], values[2])
            return
        }
        let hex = t.hasPrefix("#") ? String(t.dropFirst()) : t
        guard hex.count == 6, let v = UInt32(hex, radix: 16) else { return nil }
        self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
    }
}


// MARK: - Channel conversions

extension Image {
    /// The same picture as 3-channel RGB: gray is replicated; alpha is composited over `background`.
    public func rgb(over background: RGB = .white) -> Image {
        switch channels {
        case 3: return self
        case 4: return compositingAlpha(over: background)
        default:
            var out = [UInt8](repeating: 0, count: width * height * 3)
            for i in 0..<(width * height) {
                let v = pixels[i]
                out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
            }
            return Image(width: width, height: height, channels: 3, pixels: out)
        }
    }

    /// Composites an RGBA image over an opaque background colour, giving RGB (gray/RGB images are returned as is).
    ///
    /// Each sample is `(s * a + bg * (255 - a) + 127) / 255` in integers: the exact blend rounded to nearest
    /// (within 0.5 / 255 of the real value).
    public func compositingAlpha(over background: RGB) -> Image {
        guard channels == 4 else { return self }
        let bg = [Int(background.r), Int(background.g), Int(background.b)]
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let a = Int(pixels[4 * i + 3])
            for c in 0..<3 {
                out[3 * i + c] = UInt8((Int(pixels[4 * i + c]) * a + bg[c] * (255 - a) + 127) / 255)
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// Gray by ITU-R 601-2 luma as Pillow's `convert("L")` does: `(r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16`.
    public func gray(over background: RGB = .white) -> Image {
        if channels == 1 { return self }
        let rgb = self.rgb(over: background)
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            let r = Int(rgb.pixels[3 * i]), g = Int(rgb.pixels[3 * i + 1]), b = Int(rgb.pixels[3 * i + 2])
            out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }
}
