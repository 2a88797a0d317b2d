@testable import Experiments
import FileOutput
import Foundation
import Models
import Testing
import Visualization

/// The one patch record: photos named inside the searched folder (by hand), the search's patch found again from it,
/// and the crop left out of the JSON when none was saved.
struct PatchRecordTests {
    static func patch(_ path: String) -> Patch {
        Patch(activation: 2.5, imagePath: path, imageSHA256: "ab", scale: 320, row: 3, column: 4,
              rect: PixelRect(top: -2, left: 5, height: 11, width: 11))
    }

    @Test(arguments: [
        ("/data/photos/a.jpg", "/data/photos", "a.jpg"),
        ("/data/photos/birds/b.png", "/data/./photos/", "birds/b.png"),  // nested, folder given unstandardized
        ("/elsewhere/c.jpg", "/data/photos", "/elsewhere/c.jpg"),         // outside the folder: the path as searched
        ("/data/photos2/d.jpg", "/data/photos", "/data/photos2/d.jpg"),   // a name prefix is not the folder
    ])
    func photosAreNamedInsideTheFolderAndFoundAgain(path: String, folder: String, name: String) {
        let folder = URL(fileURLWithPath: folder, isDirectory: true)
        let record = PatchRecord(Self.patch(path), rank: 1, folder: folder, crop: nil)
        #expect(record.photo == name)
        #expect(record.patch(folder: folder) == Self.patch(path))
    }

    @Test func fieldsComeFromThePatchAndAMissingCropIsLeftOut() throws {
        let record = PatchRecord(Self.patch("/p/a.jpg"), rank: 3, folder: URL(fileURLWithPath: "/p"), crop: nil)
        #expect(record.rank == 3 && record.activation == 2.5 && record.sha256 == "ab" && record.scale == 320
                && record.row == 3 && record.column == 4 && record.rect == PixelRect(top: -2, left: 5, height: 11, width: 11))
        let entry = FilterPatches(filter: 7, patches: [record])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(OutputJSON.encodePart(entry))) as? [String: Any])
        #expect(Set(json.keys) == ["filter", "patches"], "no strip key without a strip")
        let first = try #require((json["patches"] as? [[String: Any]])?.first)
        #expect(Set(first.keys) == ["rank", "activation", "photo", "sha256", "scale", "row", "column", "rect"])
        var withCrop = record
        withCrop.crop = "conv1/crops/filter_0007_02.png"
        let full = FilterPatches(filter: 7, strip: "s.png", patches: [withCrop])
        let back = try OutputJSON.decoder.decode(FilterPatches.self, from: Data(OutputJSON.encodePart(full)))
        #expect(back == full)
    }
}
