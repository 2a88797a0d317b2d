extension Image {
    /// The `width` x `height` region whose top-left corner is `(x, y)`; it must lie inside the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height,
                     "cropped: region (\(x), \(y)) \(w) x \(h) is not inside the \(width) x \(height) image")
        var out = [UInt8]()
        out.reserveCapacity(w * h * channels)
        for row in y..<(y + h) {
            let start = (row * width + x) * channels
            out.append(contentsOf: pixels[start..<(start + w * channels)])
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }

    /// The centred `width` x `height` region, as torchvision's `center_crop`: offsets
    /// `round((size - crop) / 2)` with Python's round-half-to-even; a crop larger than the image first pads it
    /// with `fill` (torchvision pads with 0, black), `(crop - size) / 2` before and the rest after.
    public func centerCrop(width w: Int, height h: Int, fill: RGB = .black) -> Image {
        precondition(w > 0 && h > 0, "centerCrop: size \(w) x \(h) must be positive")
        var image = self
        if w > width || h > height {
            let padX = max(w - width, 0), padY = max(h - height, 0)
            image = padded(top: padY / 2, left: padX / 2, bottom: (padY + 1) / 2, right: (padX + 1) / 2, fill: fill)
        }
        let top = Self.roundHalfEven(image.height - h), left = Self.roundHalfEven(image.width - w)
        return image.cropped(x: left, y: top, width: w, height: h)
    }

    /// `round(d / 2)` with ties to even, as Python's `round` (d >= 0).
    static func roundHalfEven(_ d: Int) -> Int {
        let half = d / 2
        if d % 2 == 0 { return half }
        return half % 2 == 0 ? half : half + 1  // d / 2 = half + 0.5
    }

    /// The image with borders of `fill` added (alpha, if any, is opaque in the border).
    public func padded(top: Int, left: Int, bottom: Int, right: Int, fill: RGB = .black) -> Image {
        precondition(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "padded: negative padding")
        var canvas = Image(width: width + left + right, height: height + top + bottom, channels: channels, fill: fill)
        canvas.paste(self, x: left, y: top)
        return canvas
    }

    /// Copies `tile` (same channel count) into this image with its top-left corner at `(x, y)`, clipped to the edges.
    public mutating func paste(_ tile: Image, x: Int, y: Int) {
        precondition(tile.channels == channels, "paste: \(tile.channelName) tile into a \(channelName) image")
        let x0 = max(x, 0), x1 = min(x + tile.width, width)
        let y0 = max(y, 0), y1 = min(y + tile.height, height)
        guard x0 < x1 && y0 < y1 else { return }
        let span = (x1 - x0) * channels
        for row in y0..<y1 {
            let src = ((row - y) * tile.width + (x0 - x)) * channels
            let dst = (row * width + x0) * channels
            pixels.replaceSubrange(dst..<(dst + span), with: tile.pixels[src..<(src + span)])
        }
    }
}
