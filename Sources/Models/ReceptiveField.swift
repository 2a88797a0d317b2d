/// Where a unit of a layer looks in the input image, computed generically from the layers' kernel, stride,
/// padding and dilation (never hard-coded per network).
///
/// For the units of a layer, `size` is the receptive-field side in input pixels, `jump` the input distance
/// between neighbouring units, and `firstOffset` the input coordinate of the first (top/left) pixel of unit 0's
/// field: unit i covers input pixels `firstOffset + i * jump ... firstOffset + i * jump + size - 1` (it may
/// start left of 0 or end past the border, where the network saw padding).
public struct ReceptiveField: Equatable, Sendable {
    public let size: Int
    public let jump: Int
    public let firstOffset: Int

    /// The receptive field of the output of `layers[0...index]`, for the spatial layers among them.
    public init(layers: [Layer], through index: Int) {
        var size = 1, jump = 1, first = 0
        for layer in layers.prefix(index + 1) {
            guard let w = layer.kind.window else { continue }
            let effective = w.dilation * (w.kernel - 1) + 1
            first -= w.padding * jump
            size += (effective - 1) * jump
            jump *= w.stride
        }
        self.size = size
        self.jump = jump
        self.firstOffset = first
    }

    /// The input rectangle seen by the unit at (row, column), as half-open pixel ranges, unclipped.
    public func rectangle(row: Int, column: Int) -> PixelRect {
        let top = firstOffset + row * jump, left = firstOffset + column * jump
        return PixelRect(top: top, left: left, height: size, width: size)
    }

    /// The same rectangle clipped to an input of `height` x `width`.
    public func clippedRectangle(row: Int, column: Int, height: Int, width: Int) -> PixelRect {
        rectangle(row: row, column: column).clipped(height: height, width: width)
    }
}

/// An axis-aligned pixel rectangle: rows `top..<top+height`, columns `left..<left+width`.
public struct PixelRect: Equatable, Codable, Sendable {
    public var top: Int, left: Int, height: Int, width: Int
    public init(top: Int, left: Int, height: Int, width: Int) {
        self.top = top; self.left = left; self.height = height; self.width = width
    }
    public var bottom: Int { top + height }
    public var right: Int { left + width }

    /// The part inside an image of `height` x `width` (empty extents become 0).
    public func clipped(height h: Int, width w: Int) -> PixelRect {
        let t = max(0, top), l = max(0, left)
        let b = min(h, bottom), r = min(w, right)
        return PixelRect(top: t, left: l, height: max(0, b - t), width: max(0, r - l))
    }

    /// Whether (row, column) lies inside.
    public func contains(row: Int, column: Int) -> Bool {
        row >= top && row < bottom && column >= left && column < right
    }
}
