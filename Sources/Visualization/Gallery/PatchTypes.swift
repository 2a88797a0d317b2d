import Foundation
import Models

/// How a top-activating patch search runs: how many patches, how spread over images, at which input sizes.
public struct PatchSearchSettings: Codable, Equatable, Sendable {
    /// Patches kept per filter (k).
    public var top: Int = 9
    /// At most this many patches of one image per filter (0: unlimited). An image's best positions are chosen
    /// first, then compete with the other images' (so one texture-rich photo cannot fill a filter's row).
    public var perImage: Int = 1
    /// Empty: torchvision's evaluation policy, shorter side resized to 256 then the centre 224 x 224 cropped.
    /// Otherwise the whole image, resized so its shorter side is each of these sizes (one forward per size).
    public var scales: [Int] = []

    /// Settings; the defaults give 9 patches per filter, one per image, on the 256/224 policy.
    public init(top: Int = 9, perImage: Int = 1, scales: [Int] = []) {
        self.top = top
        self.perImage = perImage
        self.scales = scales
    }

    /// The scales a search forwards each image at (0 stands for the 256/224 policy), ascending, without repeats.
    var views: [Int] { scales.isEmpty ? [0] : Array(Set(scales)).sorted() }

    /// Patches one image may offer a filter: never more than `top`, whatever `perImage` says.
    var candidatesPerImage: Int { perImage == 0 ? top : min(perImage, top) }

    func validate() throws {
        guard top >= 1 else { throw PatchSearchError.badSetting("top \(top): keep at least 1 patch per filter") }
        guard perImage >= 0 else { throw PatchSearchError.badSetting("per-image \(perImage) must be 0 (unlimited) or more") }
        if let bad = scales.first(where: { $0 < 16 || $0 > 4096 }) {
            throw PatchSearchError.badSetting("scale \(bad) is out of range: use shorter-side sizes from 16 to 4096 pixels")
        }
    }
}

/// One top-activating image region of a filter, traceable to its file and position.
public struct Patch: Codable, Equatable, Sendable {
    /// The filter's output at the unit (the layer's value as tapped: pre-ReLU for conv3_1, post-ReLU for relu3_1).
    public var activation: Float
    /// The file as given to the search (sorted input order).
    public var imagePath: String
    /// The file's sha256, so a gallery can be checked against the photos it came from.
    public var imageSHA256: String
    /// 0 for the 256/224 policy, else the shorter-side size the image was resized to.
    public var scale: Int
    /// The unit's position in the layer's activation map.
    public var row: Int, column: Int
    /// The unit's receptive field in the ORIGINAL image's pixels, unclipped (may extend past the border).
    public var rect: PixelRect

    /// Written snake_case by the output JSON convention (FileOutput's `OutputJSON`), which reads `image_sha256`
    /// back as `imageSha256`.
    enum CodingKeys: String, CodingKey {
        case activation, imagePath, imageSHA256 = "imageSha256", scale, row, column, rect
    }

    public init(activation: Float, imagePath: String, imageSHA256: String, scale: Int, row: Int, column: Int, rect: PixelRect) {
        self.activation = activation
        self.imagePath = imagePath
        self.imageSHA256 = imageSHA256
        self.scale = scale
        self.row = row
        self.column = column
        self.rect = rect
    }

    /// The search's order: activation descending, then image path, scale, row and column ascending, so
    /// results never depend on thread count or file-system order.
    public static func ranksBefore(_ a: Patch, _ b: Patch) -> Bool {
        if a.activation != b.activation { return a.activation > b.activation }
        if a.imagePath != b.imagePath { return a.imagePath < b.imagePath }
        if a.scale != b.scale { return a.scale < b.scale }
        if a.row != b.row { return a.row < b.row }
        return a.column < b.column
    }
}

/// A file that looked like an image but could not be used, and why.
public struct SkippedFile: Codable, Equatable, Sendable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

/// The outcome of a patch search: per layer, per filter, the best patches.
public struct PatchSearchResult: Codable, Equatable, Sendable {
    public var model: String
    public var settings: PatchSearchSettings
    /// Layer name (as requested) -> per filter (array index = filter), best first. Filters not searched hold [].
    public var layers: [String: [[Patch]]]
    /// Files that could not be decoded, in path order.
    public var skipped: [SkippedFile]
    /// Images searched (skipped files not counted).
    public var imageCount: Int

    public init(model: String, settings: PatchSearchSettings, layers: [String: [[Patch]]], skipped: [SkippedFile], imageCount: Int) {
        self.model = model
        self.settings = settings
        self.layers = layers
        self.skipped = skipped
        self.imageCount = imageCount
    }
}

/// What can go wrong in a patch search, each message saying how to fix it.
public enum PatchSearchError: Error, CustomStringConvertible, Equatable {
    case badSetting(String)
    case notSpatial(layer: String, model: String)
    case noImages(folder: String)
    case folderUnreadable(folder: String, reason: String)
    case cannotMerge(String)
    case imageChanged(path: String, expected: String, found: String)
    case extremeAspectRatio(path: String, width: Int, height: Int)

    public var description: String {
        switch self {
        case let .badSetting(message): return "patches: \(message)"
        case let .notSpatial(layer, model):
            return "\(model) \(layer) has no spatial map (it is in the classifier); choose a conv, ReLU or pool layer"
        case let .noImages(folder):
            return "\(folder): no JPEG or PNG files found (searched recursively); point --images at a folder of photos"
        case let .folderUnreadable(folder, reason):
            return "\(folder): cannot read this image folder (\(reason)); give a folder of JPEG or PNG photos"
        case let .cannotMerge(reason): return "cannot merge patch searches: \(reason)"
        case let .imageChanged(path, expected, found):
            return "\(path): the file changed since the search (sha256 \(found.prefix(12))..., the index says \(expected.prefix(12))...); search again"
        case let .extremeAspectRatio(path, width, height):
            return "\(path): a \(width) x \(height) image is too elongated to resize its shorter side to the search's size; crop it first"
        }
    }
}
