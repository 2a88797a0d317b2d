import Experiments
import Foundation
import ImageIO
import Models
import Testing
import Visualization

/// `filtervis patches` on three cached photos: index.json's records hold what `PatchSearch.run` finds in this
/// process, the rectangles are the receptive field worked out by hand, and every PNG decodes to the library's strip,
/// gallery and crop images.
@Suite(.serialized) struct PatchesCommandTests {
    static let filters = [3, 17, 40]

    @Test("index.json's patch records, strips, gallery and crops equal the library's search, gallery and crops")
    func matchesTheLibrary() throws {
        let network = try LibraryReference.network()
        let photos = try LibraryReference.photos()
        let out = temporaryFolder().appendingPathComponent("out")
        defer { for url in [photos, out.deletingLastPathComponent()] { try? FileManager.default.removeItem(at: url) } }
        guard let result = try CLI.run(["patches", "--model", "alexnet", "--layers", "conv2", "--filters", "3,17,40",
                                        "--top", "2", "--tile", "32", "--save-crops", "--images", photos.path,
                                        "--threads", "2", "--out", out.path]) else { return }
        try #require(result.status == 0, "\(result.stderr)")

        let conv2 = try network.layer("conv2")
        let expected = try PatchSearch.run(network: network, layers: [conv2], images: LibraryReference.files(in: photos),
                                           settings: PatchSearchSettings(top: 2, perImage: 1), filters: ["conv2": Self.filters])
        let index = try PatchesOutput.readIndex(out.appendingPathComponent("index.json"))
        #expect(index.model == "alexnet" && index.settings == expected.settings && index.imagesFolder == photos.path)
        #expect(index.photos == 3 && expected.imageCount == 3 && index.skipped.isEmpty && expected.skipped.isEmpty)
        let layer = try #require(index.layers["conv2"])
        #expect(index.layers.keys.sorted() == ["conv2"] && layer.filters.map(\.filter) == Self.filters)
        // Each record is the library's patch field by field, ranked from 1, its photo named inside --images.
        for (entry, filter) in zip(layer.filters, Self.filters) {
            let patches = try #require(expected.layers["conv2"]?[filter])
            #expect(patches.count == 2 && entry.patches.count == 2, "filter \(filter)")
            for (rank, (record, patch)) in zip(entry.patches, patches).enumerated() {
                #expect(record.rank == rank + 1 && record.activation == patch.activation && record.sha256 == patch.imageSHA256
                        && record.scale == patch.scale && record.row == patch.row && record.column == patch.column && record.rect == patch.rect
                        && record.photo == URL(fileURLWithPath: patch.imagePath).lastPathComponent,
                        "filter \(filter) patch \(rank + 1): \(record) vs \(patch)")
                #expect(LibraryReference.smallPhotos.contains(record.photo) && record.patch(folder: photos) == patch)
            }
        }

        // AlexNet conv2 by hand: conv1 (11, stride 4, pad 2), pool (3, stride 2), conv2 (5, pad 2) see 51 pixels,
        // 8 apart, from -18. A 512 x 512 photo is resized to 256 (x2) and cropped at 16, so the unit (row, column)
        // covers original rows 2 * (8 row - 18 + 16) ..< + 102.
        #expect(layer.module == "features.3")
        let field = layer.receptiveField
        #expect(field.size == 51 && field.jump == 8 && field.firstOffset == -18, "\(field)")
        let square = layer.filters.flatMap(\.patches).filter { $0.photo != "home.jpg" }
        #expect(square.count >= 3, "patches of the two square photos to check by hand")
        for patch in square {
            #expect(patch.rect == PixelRect(top: 16 * patch.row - 4, left: 16 * patch.column - 4, height: 102, width: 102), "\(patch)")
            #expect((0..<27).contains(patch.row) && (0..<27).contains(patch.column))
        }

        // The pictures: each strip and the gallery as PatchGallery draws the library's 32-pixel tiles, each crop
        // as PatchSearch.crops cuts it at full resolution.
        var rows: [(label: String, crops: [Image], activations: [Float])] = []
        for (entry, filter) in zip(layer.filters, Self.filters) {
            let patches = try #require(expected.layers["conv2"]?[filter])
            let strip = try #require(entry.strip)
            #expect(strip == "conv2/filter_\(String(format: "%04d", filter)).png")
            let row = (label: String(filter), crops: try PatchSearch.crops(patches, size: 32), activations: patches.map(\.activation))
            rows.append(row)
            LibraryReference.expectPNG(out.appendingPathComponent(strip), equals:
                PatchGallery.strip(label: row.label, crops: row.crops, activations: row.activations, columns: 2, tile: 32))
            let crops = try PatchSearch.crops(patches)
            let names = entry.patches.compactMap(\.crop)
            #expect(names == patches.indices.map { "conv2/crops/filter_\(String(format: "%04d_%02d", filter, $0)).png" })
            for (name, crop) in zip(names, crops) {
                LibraryReference.expectPNG(out.appendingPathComponent(name), equals: crop)
            }
            try expectCropIsThePhotosPixels(crops[0], patches[0])
        }
        LibraryReference.expectPNG(out.appendingPathComponent(layer.gallery), equals: PatchGallery.rows(rows, columns: 2, tile: 32))
        #expect(try OutputFixtures.snapshot(out).count == 1 + 1 + 3 + 6, "index, gallery, 3 strips, 6 crops")
    }

    /// A full-resolution crop is the photo's own pixels inside the rectangle and mid-grey outside it.
    func expectCropIsThePhotosPixels(_ crop: Image, _ patch: Patch) throws {
        let photo = try Image(contentsOf: URL(fileURLWithPath: patch.imagePath))
        #expect(crop.width == patch.rect.width && crop.height == patch.rect.height)
        for y in stride(from: 0, to: crop.height, by: 7) {
            for x in stride(from: 0, to: crop.width, by: 7) {
                let (px, py) = (patch.rect.left + x, patch.rect.top + y)
                let inside = (0..<photo.width).contains(px) && (0..<photo.height).contains(py)
                let want = inside ? Array(photo.pixel(x: px, y: py)) : [128, 128, 128]
                if Array(crop.pixel(x: x, y: y)) != want {
                    Issue.record("\(patch.imagePath) crop pixel (\(x), \(y)): \(Array(crop.pixel(x: x, y: y))), photo \(want)")
                    return
                }
            }
        }
    }
}
