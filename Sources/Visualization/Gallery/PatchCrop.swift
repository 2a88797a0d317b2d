import Checkpoints
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
    /// `2 * size` pixels, and the rectangles are cut from that (rounded outward, within one reduced pixel of
    /// the exact rectangle): thumbnails of deep layers' large fields cost a small fraction of full-resolution
    /// crops. Without `size` every crop is exact, as `crop(_:size:)`.
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
                    return own.map { i in
                        let r = patches[i].rect
                        let left = floorDiv(r.left * reduced.width, image.width), right = ceilDiv(r.right * reduced.width, image.width)
                        let top = floorDiv(r.top * reduced.height, image.height), bottom = ceilDiv(r.bottom * reduced.height, image.height)
                        return (i, crop(PixelRect(top: top, left: left, height: bottom - top, width: right - left), from: reduced, size: size))
                    }
                }
            }
        }
        var out = [Image?](repeating: nil, count: patches.count)
        for result in results { for (i, image) in try result!.get() { out[i] = image } }
        return out.map { $0! }
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
