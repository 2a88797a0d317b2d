import Foundation
import ImageIO

/// PNG/JPEG decoding through libpng/libjpeg (the C shim), EXIF orientation and alpha handling included.
enum ImageTarget {
    /// Pixels a fuzz input may claim (the library default of 179 M would let every input allocate 0.5 GB first;
    /// the limit check itself is the same code).
    static let pixelLimit = 1 << 22

    static let target = FuzzTarget(name: "image", errorModules: ["ImageIO"]) { input, violation in
        // Alternate the options by input length so both alpha paths and both orientation paths are reached.
        let options = DecodeOptions(alpha: input.count % 2 == 0 ? .keep : .composite(over: .white),
                                    applyOrientation: input.count % 3 != 0, pixelLimit: pixelLimit)
        let info = try Image.readInfo(input, name: "fuzz")
        let decoded: DecodedImage
        do { decoded = try Image.decode(input, name: "fuzz", options: options) } catch let error as ImageError {
            guard error.kind != .unknownFormat, error.kind != .empty else {
                throw violation("readInfo accepted the header but decode says \(error.kind): \(error)")
            }
            throw error
        }
        let image = decoded.image
        guard decoded.info.format == info.format, decoded.info.width == info.width, decoded.info.height == info.height,
              decoded.info.orientation == info.orientation else {
            throw violation("decode's description \(decoded.info) differs from readInfo's \(info)")
        }
        guard (1...8).contains(info.orientation) else { throw violation("EXIF orientation \(info.orientation) outside 1...8") }
        guard info.width > 0, info.height > 0, info.width * info.height <= pixelLimit else {
            throw violation("decoded a \(info.width) x \(info.height) image (limit \(pixelLimit) pixels)")
        }
        let expected = options.applyOrientation ? info.orientedSize : (info.width, info.height)
        guard image.width == expected.0, image.height == expected.1 else {
            throw violation("image is \(image.width) x \(image.height), expected \(expected) for orientation \(info.orientation)")
        }
        guard [1, 3, 4].contains(image.channels),
              image.pixels.count == image.width * image.height * image.channels else {
            throw violation("\(image.pixels.count) pixel bytes for \(image.width) x \(image.height) x \(image.channels)")
        }
        if case .composite = options.alpha, image.hasAlpha { throw violation("alpha kept although compositing was asked") }
    }
}
