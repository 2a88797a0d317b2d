import Foundation
import Models
import Visualization

/// One filter's result from its preference image, as `visualize` (manifest.json) and `run` (units/*.json) record it.
public struct FilterRecord: Codable, Equatable, Sendable {
    public var filter: Int
    /// The saved PNG, relative to the output folder.
    public var image: String
    /// The engine's score: spatial mean of the score tensor on the optimised image at the optimisation size.
    public var score: Float
    /// The maximum over positions of the score tensor on the saved 8-bit image (comparable to patch activations);
    /// recorded by `run`.
    public var peak: Float?
    /// The score stayed at or below 0.
    public var dead: Bool
    /// The filter's best score over the photos, that photo's name and score / that best (`visualize` with photos).
    public var bestPhotoScore: Float?
    public var bestPhoto: String?
    public var photoRatio: Float?
    /// The score after each optimisation step.
    public var curve: [Float]

    public init(_ result: FilterResult, image: String, peak: Float? = nil,
                bestPhotoScore: Float? = nil, bestPhoto: String? = nil, photoRatio: Float? = nil) {
        self.filter = result.filter
        self.image = image
        self.score = result.score
        self.peak = peak
        self.dead = result.isDead
        self.bestPhotoScore = bestPhotoScore
        self.bestPhoto = bestPhoto
        self.photoRatio = photoRatio
        self.curve = result.curve
    }
}

/// One of a filter's top-activating photo patches, the one record of it: `patches` writes it in index.json, `run`
/// in LAYER/patches.json and manifest.json.
///
/// `photo` names the photo relative to the searched folder (`patches`' --images, the experiment's photo folder;
/// `photoName`), so records do not name machines; a photo outside that folder keeps its path as searched.
public struct PatchRecord: Codable, Equatable, Sendable {
    /// 1 for the best patch.
    public var rank: Int
    /// The filter's output at the unit (see `Patch.activation`).
    public var activation: Float
    public var photo: String
    /// The photo file's sha256.
    public var sha256: String
    /// 0 for the 256/224 policy, else the shorter-side size the photo was resized to.
    public var scale: Int
    /// The unit's position in the layer's activation map.
    public var row: Int, column: Int
    /// The unit's receptive field in the original photo's pixels, unclipped.
    public var rect: PixelRect
    /// The saved crop, relative to the output folder; absent when none was saved (`patches` without --save-crops).
    public var crop: String?

    public init(_ patch: Patch, rank: Int, folder: URL, crop: String?) {
        self.rank = rank
        self.activation = patch.activation
        self.photo = Self.photoName(patch.imagePath, folder: folder)
        self.sha256 = patch.imageSHA256
        self.scale = patch.scale
        self.row = patch.row
        self.column = patch.column
        self.rect = patch.rect
        self.crop = crop
    }

    /// The search's patch back, its photo found again in `folder` (so its pixels can be cropped again).
    public func patch(folder: URL) -> Patch {
        let path = photo.hasPrefix("/") ? photo : folder.standardizedFileURL.appendingPathComponent(photo).path
        return Patch(activation: activation, imagePath: path, imageSHA256: sha256, scale: scale, row: row, column: column, rect: rect)
    }

    /// A photo's name relative to `folder` (the search lists photos under the folder's standardized path).
    public static func photoName(_ path: String, folder: URL) -> String {
        let prefix = folder.standardizedFileURL.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}

/// A filter's patches, best first, with its strip of them when one was drawn (`patches`; `run` draws one gallery
/// per layer instead).
public struct FilterPatches: Codable, Equatable, Sendable {
    public var filter: Int
    public var strip: String?
    public var patches: [PatchRecord]

    public init(filter: Int, strip: String? = nil, patches: [PatchRecord]) {
        self.filter = filter
        self.strip = strip
        self.patches = patches
    }
}

/// One place that names a filter's files: `filter_0037`, then a suffix.
public enum OutputNames {
    /// `filter_0037`.
    public static func filter(_ filter: Int) -> String { String(format: "filter_%04d", filter) }

    /// `filter_0037.png`.
    public static func filterImage(_ filter: Int) -> String { Self.filter(filter) + ".png" }

    /// `filter_0037_02.png`: the filter's patch crop `rank` (0-based, two digits as `patches` writes them).
    public static func crop(_ filter: Int, rank: Int) -> String { Self.filter(filter) + String(format: "_%02d.png", rank) }
}
