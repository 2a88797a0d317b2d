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

    public init(size: Int, jump: Int, firstOffset: Int) {
        self.size = size; self.jump = jump; self.firstOffset = firstOffset
    }

    /// The receptive field of node `index`'s output, through every path from the image to it.
    ///
    /// A node with several spatial inputs (a residual add, a concat) sees the union of their fields; inputs that
    /// no longer follow the input size (a squeeze-and-excitation gate after a global pool) see the whole image and
    /// are left out: the field is where the unit's response depends on *local* pixels.
    public init(layers: [Layer], through index: Int) {
        var fields = [ReceptiveField?](repeating: nil, count: index + 1)
        let image = ReceptiveField(size: 1, jump: 1, firstOffset: 0)
        for i in 0...index {
            let layer = layers[i]
            if layer.kind.endsSpatialMaps { continue }
            let inputs = layer.inputs.compactMap { $0 == Layer.image ? image : fields[$0] }
            guard var field = inputs.first else { continue }
            for other in inputs.dropFirst() {
                let first = min(field.firstOffset, other.firstOffset)
                let end = max(field.firstOffset + field.size, other.firstOffset + other.size)
                field = ReceptiveField(size: end - first, jump: max(field.jump, other.jump), firstOffset: first)
            }
            if let w = layer.kind.window {
                let effective = w.dilation * (w.kernel - 1) + 1
                field = ReceptiveField(size: field.size + (effective - 1) * field.jump, jump: field.jump * w.stride,
                                       firstOffset: field.firstOffset - w.padding * field.jump)
            }
            fields[i] = field
        }
        self = fields[index] ?? image
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
