import Foundation
import ImageIO

/// Pictures of a patch search: one labelled row of patch tiles per filter.
///
/// Layout of a row: a label cell (the filter index) then `columns` tiles of `tile` x `tile` pixels, each with
/// its activation printed under it; missing patches (fewer images than k) leave blank cells. Rows are stacked
/// top to bottom with a 2-pixel white margin. Drawn here rather than with `Image.grid` because a layer's
/// gallery has hundreds of rows: one white canvas, tiles copied in, no per-tile canvases.
public enum PatchGallery {
    static let margin = 2
    static var labelStrip: Int { BitmapFont.glyphHeight + 2 }

    /// One filter's row.
    public static func strip(label: String, crops: [Image], activations: [Float], columns: Int, tile: Int = 64) -> Image {
        rows([(label, crops, activations)], columns: columns, tile: tile)
    }

    /// Several rows stacked (a layer's gallery.png).
    public static func rows(_ rows: [(label: String, crops: [Image], activations: [Float])], columns: Int, tile: Int = 64) -> Image {
        let labelWidth = max(tile / 2, BitmapFont.width(of: rows.map(\.label).max { $0.count < $1.count } ?? "", scale: 2) + 4)
        let rowHeight = tile + labelStrip + margin
        let width = margin + labelWidth + columns * (tile + margin)
        let height = margin + rows.count * rowHeight
        var canvas = Image(width: width, height: height, channels: 3, pixels: [UInt8](repeating: 255, count: width * height * 3))
        for (r, row) in rows.enumerated() {
            let y = margin + r * rowHeight
            let scale = BitmapFont.width(of: row.label, scale: 2) <= labelWidth - 2 ? 2 : 1
            canvas.draw(text: row.label, x: margin + max((labelWidth - BitmapFont.width(of: row.label, scale: scale)) / 2, 0),
                        y: y + (tile - BitmapFont.glyphHeight * scale) / 2, color: .black, scale: scale)
            for (i, crop) in row.crops.prefix(columns).enumerated() {
                let x = margin + labelWidth + i * (tile + margin)
                let rgb = crop.rgb()
                canvas.paste(rgb.width == tile && rgb.height == tile ? rgb : rgb.resized(width: tile, height: tile), x: x, y: y)
                guard i < row.activations.count else { continue }
                let text = format(row.activations[i])
                canvas.draw(text: text, x: x + max((tile - BitmapFont.width(of: text)) / 2, 0), y: y + tile + 1, color: .black)
            }
        }
        return canvas
    }

    /// An activation in a few characters (the label fits under a 64-pixel tile).
    public static func format(_ value: Float) -> String {
        abs(value) >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}
