import ImageIO
import Models

/// How one network input was made from an original image, and the inverse map of pixel rectangles.
///
/// The network input is a `inputWidth` x `inputHeight` window at `(cropLeft, cropTop)` of the original resized
/// to `resizedWidth` x `resizedHeight`. Resizing (Pillow's, edge-aligned: resized pixel x covers original
/// `[x * W / Wr, (x + 1) * W / Wr)`) scales each axis by its own factor, so a rectangle maps back as
///     left_o = floor((left + cropLeft) * W / Wr),  right_o = ceil((right + cropLeft) * W / Wr)
/// (and likewise for rows): rounded outward, so the original rectangle always covers what the unit saw.
struct ViewGeometry: Equatable {
    var originalWidth: Int, originalHeight: Int
    var resizedWidth: Int, resizedHeight: Int
    var cropLeft: Int, cropTop: Int
    var inputWidth: Int, inputHeight: Int

    /// The torchvision evaluation policy (scale 0): shorter side to 256, centre 224 x 224 crop; or the whole
    /// image with its shorter side resized to `scale`. Sizes and offsets computed exactly as
    /// `Image.resizeShorterSide` and `Image.centerCrop` do.
    init(originalWidth w: Int, originalHeight h: Int, scale: Int) {
        let target = scale == 0 ? 256 : scale
        let short = min(w, h), long = max(w, h)
        let newLong = Int(Double(target) * Double(long) / Double(short))
        (resizedWidth, resizedHeight) = w <= h ? (target, newLong) : (newLong, target)
        (originalWidth, originalHeight) = (w, h)
        if scale == 0 {
            (inputWidth, inputHeight) = (224, 224)
            cropLeft = Self.roundHalfEven(resizedWidth - 224)
            cropTop = Self.roundHalfEven(resizedHeight - 224)
        } else {
            (inputWidth, inputHeight) = (resizedWidth, resizedHeight)
            (cropLeft, cropTop) = (0, 0)
        }
    }

    /// The network input for `image` (the original, RGB): resize then crop, as the geometry says.
    func input(from image: Image) -> Image {
        let resized = image.resized(width: resizedWidth, height: resizedHeight)
        if inputWidth == resizedWidth && inputHeight == resizedHeight { return resized }
        return resized.cropped(x: cropLeft, y: cropTop, width: inputWidth, height: inputHeight)
    }

    /// A rectangle in network-input pixels mapped to original-image pixels, rounded outward, unclipped.
    func originalRect(_ r: PixelRect) -> PixelRect {
        let left = floorDiv((r.left + cropLeft) * originalWidth, resizedWidth)
        let right = ceilDiv((r.right + cropLeft) * originalWidth, resizedWidth)
        let top = floorDiv((r.top + cropTop) * originalHeight, resizedHeight)
        let bottom = ceilDiv((r.bottom + cropTop) * originalHeight, resizedHeight)
        return PixelRect(top: top, left: left, height: bottom - top, width: right - left)
    }

    /// `round(d / 2)` with ties to even (torchvision's centre-crop offset; d >= 0).
    static func roundHalfEven(_ d: Int) -> Int {
        let half = d / 2
        if d % 2 == 0 { return half }
        return half % 2 == 0 ? half : half + 1
    }
}

func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
