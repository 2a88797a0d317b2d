/// How to lay tiles out in a grid.
public struct GridLayout: Equatable, Sendable {
    /// Tiles per row; nil picks `ceil(sqrt(n))`.
    public var columns: Int?
    /// Pixels between tiles and around the edge.
    public var margin: Int
    /// The canvas colour (and what alpha is composited over).
    public var background: RGB
    /// Label colour.
    public var labelColor: RGB
    /// Font pixels per glyph pixel (1: 7-pixel-high text).
    public var labelScale: Int

    /// A layout; the defaults give a white canvas, 4-pixel margins and black labels at scale 1.
    public init(columns: Int? = nil, margin: Int = 4, background: RGB = .white, labelColor: RGB = .black,
                labelScale: Int = 1) {
        self.columns = columns
        self.margin = margin
        self.background = background
        self.labelColor = labelColor
        self.labelScale = labelScale
    }

    /// Height of the label strip under each tile: the glyph height plus one font pixel above and below.
    var labelHeight: Int { (BitmapFont.glyphHeight + 2) * labelScale }
}

extension Image {
    /// Tiles of equal size, row by row, into one RGB image, optionally with a label under each tile.
    ///
    /// Canvas: `columns * (w + margin) + margin` wide and `rows * (h + labelStrip + margin) + margin` high, where
    /// the strip is `layout.labelHeight` when labels are given. Labels are centred under their tile and clipped
    /// to it. Throws if tiles differ in size, labels do not match the tile count, or the layout is invalid.
    public static func grid(_ tiles: [Image], labels: [String]? = nil, layout: GridLayout = GridLayout()) throws -> Image {
        func invalid(_ reason: String) -> ImageError { ImageError.invalidArgument(file: "grid", reason: reason) }
        guard let first = tiles.first else { throw invalid("no tiles to lay out") }
        guard layout.margin >= 0, layout.labelScale >= 1 else {
            throw invalid("margin \(layout.margin) must be >= 0 and label scale \(layout.labelScale) >= 1")
        }
        if let index = tiles.firstIndex(where: { $0.width != first.width || $0.height != first.height }) {
            throw invalid("tile \(index) is \(tiles[index].width) x \(tiles[index].height), tile 0 is "
                          + "\(first.width) x \(first.height): resize them to one size first")
        }
        if let labels, labels.count != tiles.count {
            throw invalid("\(labels.count) labels for \(tiles.count) tiles")
        }
        let columns = layout.columns ?? Int(Double(tiles.count).squareRoot().rounded(.up))
        guard columns >= 1 else { throw invalid("columns \(columns) must be at least 1") }
        let rows = (tiles.count + columns - 1) / columns
        let strip = labels == nil ? 0 : layout.labelHeight
        let cellW = first.width + layout.margin, cellH = first.height + strip + layout.margin
        var canvas = Image(width: columns * cellW + layout.margin, height: rows * cellH + layout.margin,
                           channels: 3, fill: layout.background)
        for (index, tile) in tiles.enumerated() {
            let x = layout.margin + (index % columns) * cellW, y = layout.margin + (index / columns) * cellH
            canvas.paste(tile.rgb(over: layout.background), x: x, y: y)
            guard let label = labels?[index], !label.isEmpty else { continue }
            // Draw into a tile-wide strip so that long labels are clipped at the tile's edges.
            var band = Image(width: first.width, height: strip, channels: 3, fill: layout.background)
            let textWidth = BitmapFont.width(of: label, scale: layout.labelScale)
            band.draw(text: label, x: max((first.width - textWidth) / 2, 0), y: layout.labelScale,
                      color: layout.labelColor, scale: layout.labelScale)
            canvas.paste(band, x: x, y: y + first.height)
        }
        return canvas
    }
}
