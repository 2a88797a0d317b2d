import Foundation
import ImageIO
import Models
import TensorCore

extension PatchSearch {
    /// The grey that fills the parts of a receptive field outside the image (the network saw zero padding
    /// there; mid-grey shows "no image here" without suggesting a colour the filter liked).
    public static let paddingColor = RGB(gray: 128)

    /// The patch's receptive-field crop from the original image, padded where it crosses the border.
    ///
    /// Reads and decodes the file again (as the search did: EXIF orientation applied, alpha over white) and
    /// checks its sha256 against the patch's, so a gallery never shows a region of a different picture.
    /// `size` resizes the crop to `size` x `size` (the rectangle is square up to rounding of the resize factor).
    public static func crop(_ patch: Patch, size: Int? = nil) throws -> Image {
        let (image, sha) = try decodeForSearch(URL(fileURLWithPath: patch.imagePath))
        guard sha == patch.imageSHA256 else {
            throw PatchSearchError.imageChanged(path: patch.imagePath, expected: patch.imageSHA256, found: sha)
        }
        return crop(patch.rect, from: image, size: size)
    }

    /// The crops of many patches, each image decoded once (images in parallel), in the patches' order.
    ///
    /// With `size` (gallery tiles), an image whose patches are all much larger than the tile is first reduced
    /// by an integer factor (area average, one pass over the image) so that every patch still spans at least
    /// `2 * size` reduced pixels, and each tile is sampled from that (see `thumbnail`): thumbnails of deep
    /// layers' large fields cost a small fraction of full-resolution crops. Without `size` every crop is
    /// exact, as `crop(_:size:)`.
    public static func crops(_ patches: [Patch], size: Int? = nil) throws -> [Image] {
        var byImage: [String: [Int]] = [:]
        for (i, patch) in patches.enumerated() { byImage[patch.imagePath, default: []].append(i) }
        let paths = byImage.keys.sorted()
        var results = [Result<[(Int, Image)], Error>?](repeating: nil, count: paths.count)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = slots   // one image per worker, each writing its own slot
            Parallel.forEach(paths.count) { p in
                slots[p] = Result {
                    let (image, sha) = try decodeForSearch(URL(fileURLWithPath: paths[p]))
                    let own = byImage[paths[p]]!
                    if let bad = own.first(where: { patches[$0].imageSHA256 != sha }) {
                        throw PatchSearchError.imageChanged(path: paths[p], expected: patches[bad].imageSHA256, found: sha)
                    }
                    let smallest = own.map { min(patches[$0].rect.width, patches[$0].rect.height) }.min()!
                    let factor = size.map { max(1, smallest / (2 * $0)) } ?? 1
                    guard factor > 1 else { return own.map { ($0, crop(patches[$0].rect, from: image, size: size)) } }
                    let reduced = image.resized(width: (image.width + factor - 1) / factor,
                                                height: (image.height + factor - 1) / factor, filter: .box)
                    return own.map { ($0, thumbnail(patches[$0].rect, original: (image.width, image.height), reduced: reduced, size: size!)) }
                }
            }
        }
        var out = [Image?](repeating: nil, count: patches.count)
        for result in results { for (i, image) in try result!.get() { out[i] = image } }
        return out.map { $0! }
    }

    /// A `size` x `size` tile of `rect` (original pixels) sampled bilinearly from `reduced` (the original area-
    /// averaged to a smaller size) at each tile pixel's centre mapped exactly into the reduced image; tile
    /// pixels whose centre lies outside the original get `paddingColor`.
    static func thumbnail(_ rect: PixelRect, original: (width: Int, height: Int), reduced: Image, size: Int) -> Image {
        let c = reduced.channels
        var out = [UInt8](repeating: paddingColor.r, count: size * size * c)
        let sx = Double(reduced.width) / Double(original.width), sy = Double(reduced.height) / Double(original.height)
        reduced.pixels.withUnsafeBufferPointer { src in
            for v in 0..<size {
                let oy = Double(rect.top) + (Double(v) + 0.5) * Double(rect.height) / Double(size)
                guard oy >= 0 && oy < Double(original.height) else { continue }
                let ry = max(0, oy * sy - 0.5), y0 = min(Int(ry), reduced.height - 1), y1 = min(y0 + 1, reduced.height - 1)
                let fy = Float(ry - Double(y0))
                for u in 0..<size {
                    let ox = Double(rect.left) + (Double(u) + 0.5) * Double(rect.width) / Double(size)
                    guard ox >= 0 && ox < Double(original.width) else { continue }
                    let rx = max(0, ox * sx - 0.5), x0 = min(Int(rx), reduced.width - 1), x1 = min(x0 + 1, reduced.width - 1)
                    let fx = Float(rx - Double(x0))
                    for ch in 0..<c {
                        func at(_ x: Int, _ y: Int) -> Float { Float(src[(y * reduced.width + x) * c + ch]) }
                        let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx
                        let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx
                        out[(v * size + u) * c + ch] = UInt8(clamping: Int((top + (bottom - top) * fy).rounded()))
                    }
                }
            }
        }
        return Image(width: size, height: size, channels: c, pixels: out)
    }

    /// `rect` of `image`, with `paddingColor` where it lies outside, optionally resized to `size` x `size`.
    public static func crop(_ rect: PixelRect, from image: Image, size: Int? = nil) -> Image {
        let (w, h) = (max(rect.width, 1), max(rect.height, 1))
        // paddingColor is a grey level: one repeated byte fills every sample.
        var canvas = Image(width: w, height: h, channels: image.channels,
                           pixels: [UInt8](repeating: paddingColor.r, count: w * h * image.channels))
        canvas.paste(image, x: -rect.left, y: -rect.top)   // paste clips to the canvas
        guard let size else { return canvas }
        return canvas.resized(width: size, height: size)
    }
}
