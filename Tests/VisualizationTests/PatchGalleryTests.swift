import Foundation
import ImageIO
import Models
import Testing
@testable import Visualization

/// Gallery layout and the reduced-resolution thumbnails.
struct PatchGalleryTests {
    /// Rows of label + k tiles: exact canvas size, each tile's pixels at its computed place, blanks stay white.
    @Test func rowsPlaceEveryTileExactly() {
        let red = Image(width: 16, height: 16, channels: 3, fill: RGB(255, 0, 0))
        let blue = Image(width: 16, height: 16, channels: 3, fill: RGB(0, 0, 255))
        let gallery = PatchGallery.rows([("7", [red, blue], [1.5, 0.25]), ("12", [blue], [3])], columns: 3, tile: 16)
        // Label column: max(16 / 2, width of "12" at scale 2 + 4 = 11 * 2 + 4 = 26) = 26; row: 16 + 9 + 2.
        let labelWidth = 26, rowHeight = 16 + BitmapFont.glyphHeight + 2 + 2
        #expect(gallery.width == 2 + labelWidth + 3 * 18 && gallery.height == 2 + 2 * rowHeight)
        func at(_ x: Int, _ y: Int) -> [UInt8] { Array(gallery.pixel(x: x, y: y)) }
        let x0 = 2 + labelWidth
        #expect(at(x0, 2) == [255, 0, 0] && at(x0 + 15, 2 + 15) == [255, 0, 0])
        #expect(at(x0 + 18, 2) == [0, 0, 255])
        #expect(at(x0 + 36 + 8, 2 + 8) == [255, 255, 255], "third cell of row 0 has no patch: blank")
        #expect(at(x0, 2 + rowHeight) == [0, 0, 255] && at(x0 + 18 + 8, 2 + rowHeight + 8) == [255, 255, 255])
        // The activation text is drawn under the first tile, and the label somewhere in the label column.
        let under = (0..<16).flatMap { x in (0..<BitmapFont.glyphHeight).map { y in at(x0 + x, 2 + 16 + 1 + y) } }
        #expect(under.contains([0, 0, 0]))
        let label = (2..<(2 + labelWidth)).flatMap { x in (2..<18).map { y in at(x, y) } }
        #expect(label.contains([0, 0, 0]))
        #expect(PatchGallery.format(170.93) == "171" && PatchGallery.format(1.25) == "1.2" && PatchGallery.format(-3) == "-3.0")
    }

    /// Thumbnails cut from the area-reduced photo look like the exact crops resized: on triangle-wave ramps a
    /// rectangle misplaced by one reduced pixel (6 original ones) differs from the exact crop by 2.6-3.9 levels
    /// on average, the thumbnail by 0.3-0.6 (not 0: it samples an area-reduced copy, the exact crop resizes the
    /// full-resolution pixels); tolerance 1 level.
    @Test func reducedThumbnailsMatchExactCrops() throws {
        let dir = try PatchPhotos.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (w, h) = (1800, 1200)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                // Triangle waves (period 400 px, 1.275 levels per pixel): smooth, yet steep enough to show a shift.
                pixels[i] = UInt8(abs(x % 400 - 200) * 255 / 200)
                pixels[i + 1] = UInt8(abs(y % 400 - 200) * 255 / 200)
                pixels[i + 2] = 128
            }
        }
        let url = dir.appendingPathComponent("gradient.png")
        try Image(width: w, height: h, channels: 3, pixels: pixels).write(to: url)
        let (_, sha) = try PatchSearch.decodeForSearch(url)
        let rects = [PixelRect(top: 100, left: 200, height: 800, width: 800), PixelRect(top: -150, left: 1300, height: 801, width: 799)]
        let patches = rects.map { Patch(activation: 1, imagePath: url.path, imageSHA256: sha, scale: 0, row: 0, column: 0, rect: $0) }
        let thumbnails = try PatchSearch.crops(patches, size: 64)
        for (patch, thumbnail) in zip(patches, thumbnails) {
            let exact = try PatchSearch.crop(patch, size: 64)
            #expect(thumbnail.width == 64 && thumbnail.height == 64)
            var total = 0, count = 0
            for i in stride(from: 0, to: exact.pixels.count, by: 3) {
                for c in 0..<2 { total += abs(Int(exact.pixels[i + c]) - Int(thumbnail.pixels[i + c])); count += 1 }
            }
            let mean = Double(total) / Double(count)
            // The same measure against the exact crop of a rectangle 6 pixels to the right must be clearly larger.
            var shifted = patch
            shifted.rect.left += 6
            let off = try PatchSearch.crop(shifted, size: 64)
            var offTotal = 0
            for i in stride(from: 0, to: off.pixels.count, by: 3) {
                for c in 0..<2 { offTotal += abs(Int(off.pixels[i + c]) - Int(thumbnail.pixels[i + c])) }
            }
            let offMean = Double(offTotal) / Double(count)
            #expect(mean < 1, "thumbnail of \(patch.rect) differs from the exact crop by \(mean) levels on average")
            #expect(offMean > 2, "a 6-pixel shift should show (\(offMean) levels)")
        }
    }
}
