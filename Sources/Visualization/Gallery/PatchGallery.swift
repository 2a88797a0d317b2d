import Foundation
import ImageIO

/// Pictures of a patch search: one labelled row of patch tiles per filter.
public enum PatchGallery {
    /// One row: a label cell (the text, e.g. "12") then the filter's patches as `tile` x `tile` squares, each
    /// with its activation under it; missing patches (fewer images than k) leave blank cells.
    public static func strip(label: String, crops: [Image], activations: [Float], columns: Int, tile: Int = 64) throws -> Image {
        try rows([(label, crops, activations)], columns: columns, tile: tile)
    }

    /// Several rows laid out as `strip` does, stacked top to bottom (the layer's gallery.png).
    public static func rows(_ rows: [(label: String, crops: [Image], activations: [Float])], columns: Int, tile: Int = 64) throws -> Image {
        let blank = Image(width: tile, height: tile, channels: 3, fill: .white)
        var tiles: [Image] = []
        var labels: [String] = []
        for row in rows {
            tiles.append(labelCell(row.label, tile: tile))
            labels.append("")
            for i in 0..<columns {
                if i < row.crops.count {
                    let crop = row.crops[i]
                    tiles.append(crop.width == tile && crop.height == tile ? crop.rgb() : crop.rgb().resized(width: tile, height: tile))
                    labels.append(i < row.activations.count ? format(row.activations[i]) : "")
                } else {
                    tiles.append(blank)
                    labels.append("")
                }
            }
        }
        return try Image.grid(tiles, labels: labels, layout: GridLayout(columns: columns + 1, margin: 2))
    }

    /// A white tile with `text` centred (scale 2 when it fits).
    static func labelCell(_ text: String, tile: Int) -> Image {
        var cell = Image(width: tile, height: tile, channels: 3, fill: .white)
        let scale = BitmapFont.width(of: text, scale: 2) <= tile - 4 ? 2 : 1
        let x = max((tile - BitmapFont.width(of: text, scale: scale)) / 2, 0)
        let y = (tile - BitmapFont.glyphHeight * scale) / 2
        cell.draw(text: text, x: x, y: y, color: .black, scale: scale)
        return cell
    }

    /// An activation in at most about 6 characters (the label strip is one tile wide).
    public static func format(_ value: Float) -> String {
        abs(value) >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}
