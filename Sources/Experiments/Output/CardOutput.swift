import FileOutput
import Foundation
import ImageIO
import Visualization

/// What one filter's card shows: which filter, how its preference image was made, and its top photo patches.
public struct CardRecord: Equatable, Sendable {
    public var model: String
    public var layer: String
    public var filter: Int
    public var preset: String
    public var seed: UInt64
    /// Best first.
    public var patches: [Patch]

    public init(model: String, layer: String, filter: Int, preset: String, seed: UInt64, patches: [Patch]) {
        self.model = model
        self.layer = layer
        self.filter = filter
        self.preset = preset
        self.seed = seed
        self.patches = patches
    }

    public var title: String { "\(model) \(layer) filter \(filter)" }
    public var caption: String { "preset \(preset), seed \(seed)" }
}

/// `filtervis card`'s PNG: the card drawn from its record and the preference image, written atomically.
public enum CardOutput {
    /// The card's picture (the patches cropped from their photos).
    public static func image(_ card: CardRecord, preference: Image) throws -> Image {
        try compose(title: card.title, preference: preference, caption: card.caption,
                    crops: try PatchSearch.crops(card.patches, size: tile), activations: card.patches.map(\.activation))
    }

    /// Draws the card and writes it to `url` (.png), replacing an earlier file only once the new one is complete.
    public static func write(_ card: CardRecord, preference: Image, to url: URL) throws {
        try OutputFile.write(try image(card, preference: preference), to: url)
    }

    /// Side of a patch tile in pixels.
    public static let tile = 72

    /// Title on top; the preference image (3 tiles high) on the left, the patches in a 3-column grid on the right.
    public static func compose(title: String, preference: Image, caption: String, crops: [Image], activations: [Float]) throws -> Image {
        let columns = 3
        let patchGrid = try Image.grid(crops.isEmpty ? [Image(width: tile, height: tile, fill: .white)] : crops,
                                       labels: crops.isEmpty ? ["none"] : activations.map { PatchGallery.format($0) },
                                       layout: GridLayout(columns: columns, margin: 2))
        let side = max(patchGrid.height - 2 * BitmapFont.glyphHeight, 3 * tile)
        let left = preference.rgb().resized(width: side, height: side)
        let margin = 8, header = 2 * (BitmapFont.glyphHeight * 2) + 8
        let footer = BitmapFont.glyphHeight + 6
        var canvas = Image(width: margin * 3 + side + patchGrid.width, height: header + max(side + footer, patchGrid.height) + margin,
                           channels: 3, fill: .white)
        canvas.draw(text: title, x: margin, y: 4, color: .black, scale: 2)
        canvas.draw(text: "preference image", x: margin, y: header - BitmapFont.glyphHeight - 3, color: .black)
        canvas.draw(text: "top photo patches", x: margin * 2 + side, y: header - BitmapFont.glyphHeight - 3, color: .black)
        canvas.paste(left, x: margin, y: header)
        canvas.draw(text: caption, x: margin, y: header + side + 3, color: .black)
        canvas.paste(patchGrid, x: margin * 2 + side, y: header)
        return canvas
    }
}
