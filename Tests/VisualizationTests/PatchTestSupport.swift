import Foundation
import ImageIO
import Models
import TensorCore
@testable import Visualization

/// Photos and synthetic images for the patch-search tests.
enum PatchPhotos {
    /// The real photo collection (`make photos`), sorted by path.
    static let all: [URL] = {
        let folder = ModelCatalog.cacheDirectory.appendingPathComponent("photos", isDirectory: true)
        do {
            let files = try PatchSearch.imageFiles(in: folder)
            precondition(files.count >= 5, "\(folder.path) holds \(files.count) photos — run `make photos` before the tests")
            return files
        } catch { fatalError("\(error) — run `make photos` before the tests") }
    }()

    /// A few real photos: the first `count` in path order.
    static func first(_ count: Int) -> [URL] { Array(all.prefix(count)) }

    /// A fresh temporary folder, removed by the caller's `defer`.
    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-patches-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Grey `width` x `height` with a white square of side `side` whose top-left corner is (x, y).
    static func square(width: Int, height: Int, x: Int, y: Int, side: Int) -> Image {
        var image = Image(width: width, height: height, channels: 3, fill: RGB(gray: 128))
        image.paste(Image(width: side, height: side, channels: 3, fill: .white), x: x, y: y)
        return image
    }
}

/// The brute-force reference: every activation of every image at every position, sorted with the search's
/// tie-break, then the per-image limit and top-k applied to the full list.
enum BruteForcePatches {
    /// All (activation, image, row, column) of each channel of each layer, computed one image at a time (batch 1).
    static func allActivations(network: Network, layers: [String], images: [URL], scales: [Int] = [0]) throws -> [String: [[Patch]]] {
        var out: [String: [[Patch]]] = [:]
        let modules = try layers.map { try network.layer($0).node }
        for url in images {
            let (image, sha) = try PatchSearch.decodeForSearch(url)
            for scale in scales {
            let geometry = ViewGeometry(originalWidth: image.width, originalHeight: image.height, scale: scale)
            let outputs = GradMode.withoutGrad { network.forward(geometry.input(from: image).tensor(.unit).reshaped1, taps: Set(modules)) }
            for (layer, module) in zip(layers, modules) {
                let map = outputs[module]!
                let (c, h, w) = (map.shape[1], map.shape[2], map.shape[3])
                var perChannel = out[layer] ?? Array(repeating: [], count: c)
                for channel in 0..<c {
                    for row in 0..<h {
                        for column in 0..<w {
                            perChannel[channel].append(Patch(activation: map.storage[(channel * h + row) * w + column], imagePath: url.path,
                                                             imageSHA256: sha, scale: scale, row: row, column: column,
                                                             rect: PixelRect(top: 0, left: 0, height: 0, width: 0)))
                        }
                    }
                }
                out[layer] = perChannel
            }
            }
        }
        return out
    }

    /// The best `top` of `all` with at most `perImage` per image (0: unlimited), by sorting everything.
    static func select(_ all: [Patch], top: Int, perImage: Int) -> [Patch] {
        var counts: [String: Int] = [:]
        var kept: [Patch] = []
        for patch in all.sorted(by: Patch.ranksBefore) where kept.count < top {
            let n = counts[patch.imagePath, default: 0]
            if perImage > 0 && n >= perImage { continue }
            counts[patch.imagePath] = n + 1
            kept.append(patch)
        }
        return kept
    }
}

extension Tensor {
    /// (3, H, W) as a batch of one, (1, 3, H, W).
    var reshaped1: Tensor { rank == 4 ? self : reshape(self, [1] + shape) }
}
