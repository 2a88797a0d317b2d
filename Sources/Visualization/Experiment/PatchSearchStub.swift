// STUB, to delete when the patches helper's PatchSearch lands in main: a small but working implementation of
// exactly the agreed API (PatchSearchSettings, Patch, SkippedFile, PatchSearchResult, PatchSearch), so that the
// experiment runner compiles and its tests exercise real patches. The experiment code touches it only through
// these names; `ExperimentPatches` (PatchAdapter.swift) is the one place that indexes its per-filter lists.
import Checkpoints
import Foundation
import ImageIO
import Models
import TensorCore

public struct PatchSearchSettings: Codable, Equatable {
    public var top = 9
    public var perImage = 1
    public var scales: [Int] = []
    public init(top: Int = 9, perImage: Int = 1, scales: [Int] = []) { (self.top, self.perImage, self.scales) = (top, perImage, scales) }
}

public struct Patch: Codable, Equatable {
    public var activation: Float
    public var imagePath: String
    public var imageSHA256: String
    public var scale: Int
    public var row: Int
    public var column: Int
    public var rect: PixelRect
}

public struct SkippedFile: Codable, Equatable {
    public var path: String
    public var reason: String
}

public struct PatchSearchResult: Codable, Equatable {
    public var model: String
    public var settings: PatchSearchSettings
    /// Per layer, per filter index (all channels; unsearched filters empty), best first.
    public var layers: [String: [[Patch]]]
    public var skipped: [SkippedFile]
    public var imageCount: Int
}

public enum PatchSearch {
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The photos of a folder (not recursive), sorted by name.
    public static func imageFiles(in folder: URL) throws -> [URL] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw VisualizationError.badSetting("\(folder.path): cannot list this photo folder (\(error.localizedDescription))")
        }
        return names.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".") }
            .sorted().map { folder.appendingPathComponent($0) }
    }

    /// Best-first order; ties broken by image, scale and position so that any split of the images merges exactly.
    static func before(_ a: Patch, _ b: Patch) -> Bool {
        if a.activation != b.activation { return a.activation > b.activation }
        if a.imagePath != b.imagePath { return a.imagePath < b.imagePath }
        if a.scale != b.scale { return a.scale < b.scale }
        return a.row != b.row ? a.row < b.row : a.column < b.column
    }

    public static func run(network: Network, layers: [String], images: [URL], settings: PatchSearchSettings,
                           filters: [String: [Int]]? = nil, onImage: (Int, Int) -> Void = { _, _ in }) throws -> PatchSearchResult {
        let indices = try layers.map { try network.layerIndex($0) }
        var found: [String: [[Patch]]] = [:]
        for (layer, index) in zip(layers, indices) { found[layer] = Array(repeating: [], count: network.channels(at: index)) }
        var skipped: [SkippedFile] = []
        var count = 0
        for (n, url) in images.enumerated() {
            defer { onImage(n + 1, images.count) }
            let image: Image, sha: String
            do {
                let data = try Data(contentsOf: url)
                sha = SHA256.hex(of: data)
                image = try Image(contentsOf: url).rgb()
            } catch {
                skipped.append(SkippedFile(path: url.path, reason: "\(error)"))
                continue
            }
            count += 1
            for scale in settings.scales.isEmpty ? [224] : settings.scales {
                let resized = image.resizeShorterSide(to: scale)
                let outputs = GradMode.withoutGrad { network.forward(resized.tensor(.unit), taps: Set(indices)) }
                for (layer, index) in zip(layers, indices) {
                    let act = outputs[index]!, (c, h, w) = (act.shape[1], act.shape[2], act.shape[3])
                    let field = network.receptiveField(at: index)
                    for filter in filters?[layer] ?? Array(0..<c) {
                        let plane = Array(act.storage[(filter * h * w)..<((filter + 1) * h * w)])
                        let best = plane.indices.sorted { plane[$0] != plane[$1] ? plane[$0] > plane[$1] : $0 < $1 }.prefix(settings.perImage)
                        for i in best {
                            let (row, column) = (i / w, i % w)
                            found[layer]![filter].append(Patch(
                                activation: plane[i], imagePath: url.path, imageSHA256: sha, scale: scale, row: row, column: column,
                                rect: field.clippedRectangle(row: row, column: column, height: resized.height, width: resized.width)))
                        }
                    }
                }
            }
        }
        for layer in layers { found[layer] = found[layer]!.map { Array($0.sorted(by: before).prefix(settings.top)) } }
        return PatchSearchResult(model: network.name, settings: settings, layers: found, skipped: skipped, imageCount: count)
    }

    public static func merge(_ parts: [PatchSearchResult]) throws -> PatchSearchResult {
        guard var merged = parts.first else { throw VisualizationError.badSetting("PatchSearch.merge: nothing to merge") }
        for part in parts.dropFirst() {
            guard part.model == merged.model, part.settings == merged.settings, Set(part.layers.keys) == Set(merged.layers.keys) else {
                throw VisualizationError.badSetting("PatchSearch.merge: parts differ in model, settings or layers")
            }
            for (layer, lists) in part.layers {
                merged.layers[layer] = zip(merged.layers[layer]!, lists).map { Array(($0 + $1).sorted(by: before).prefix(merged.settings.top)) }
            }
            merged.skipped += part.skipped
            merged.imageCount += part.imageCount
        }
        merged.skipped.sort { $0.path < $1.path }
        return merged
    }

    public static func crop(_ patch: Patch, size: Int? = nil) throws -> Image {
        let image = try Image(contentsOf: URL(fileURLWithPath: patch.imagePath)).rgb().resizeShorterSide(to: patch.scale)
        let r = patch.rect.clipped(height: image.height, width: image.width)
        let cut = image.cropped(x: r.left, y: r.top, width: r.width, height: r.height)
        guard let size else { return cut }
        return cut.resized(width: size, height: size)
    }
}
