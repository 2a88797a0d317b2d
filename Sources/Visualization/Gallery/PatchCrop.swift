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
                    return try byImage[paths[p]]!.map { i in
                        guard sha == patches[i].imageSHA256 else {
                            throw PatchSearchError.imageChanged(path: paths[p], expected: patches[i].imageSHA256, found: sha)
                        }
                        return (i, crop(patches[i].rect, from: image, size: size))
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
        var canvas = Image(width: max(rect.width, 1), height: max(rect.height, 1), channels: image.channels, fill: paddingColor)
        canvas.paste(image, x: -rect.left, y: -rect.top)   // paste clips to the canvas
        guard let size else { return canvas }
        return canvas.resized(width: size, height: size)
    }
}
