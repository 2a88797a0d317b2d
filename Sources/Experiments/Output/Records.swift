import Foundation
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

/// One place that names a filter's files: `filter_0037`, then a suffix.
public enum OutputNames {
    /// `filter_0037`.
    public static func filter(_ filter: Int) -> String { String(format: "filter_%04d", filter) }

    /// `filter_0037.png`.
    public static func filterImage(_ filter: Int) -> String { Self.filter(filter) + ".png" }

    /// `filter_0037_02.png`: the filter's patch crop `rank` (0-based, two digits as `patches` writes them).
    public static func crop(_ filter: Int, rank: Int) -> String { Self.filter(filter) + String(format: "_%02d.png", rank) }
}
