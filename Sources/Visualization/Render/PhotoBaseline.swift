import Foundation
import ImageIO
import Models
import TensorCore

/// How strongly real photos drive each filter: the yardstick for a preference image's score.
///
/// Each photo is resized so its shorter side is `size` (antialiased) and centre-cropped to `size` x `size`, the
/// optimisation size of the preference images, and scored like them: the filter's post-ReLU spatial mean.
public struct PhotoBaseline: Codable, Equatable {
    /// How many photos were scored.
    public let photoCount: Int
    /// Per filter (same order as the job's filters): the best photo score and which photo gave it.
    public let best: [Float]
    public let bestPhoto: [String]

    /// Scores `photos` for `filters` of `scoreLayer` at `size` pixels. Unreadable photos are skipped.
    public static func measure(network: Network, scoreLayer: LayerRef, filters: [Int], photos: [URL], size: Int,
                               batch: Int = 8) throws -> PhotoBaseline {
        var best = [Float](repeating: -.infinity, count: filters.count)
        var bestPhoto = [String](repeating: "", count: filters.count)
        var images: [(name: String, image: Image)] = []
        for url in photos.sorted(by: { $0.path < $1.path }) {
            guard let decoded = try? Image(contentsOf: url) else { continue }
            let square = decoded.rgb().resizeShorterSide(to: size).centerCrop(width: size, height: size)
            images.append((url.lastPathComponent, square))
        }
        for start in stride(from: 0, to: images.count, by: batch) {
            let chunk = Array(images[start..<min(start + batch, images.count)])
            let input = Image.tensor(chunk.map(\.image), .unit)
            let act = GradMode.withoutGrad { network.forward(input, to: scoreLayer) }
            let (c, plane) = (act.shape[1], act.shape[2] * act.shape[3])
            for (b, photo) in chunk.enumerated() {
                for (i, filter) in filters.enumerated() {
                    var total = 0.0
                    let base = (b * c + filter) * plane
                    for p in 0..<plane { total += Double(act.storage[base + p]) }
                    let score = Float(total / Double(plane))
                    if score > best[i] { best[i] = score; bestPhoto[i] = photo.name }
                }
            }
        }
        return PhotoBaseline(photoCount: images.count, best: best, bestPhoto: bestPhoto)
    }

    /// score / best photo score per filter (infinite where no photo drives the filter at all).
    public func ratios(_ scores: [Float]) -> [Float] {
        zip(scores, best).map { $1 > 0 ? $0 / $1 : ($0 > 0 ? .infinity : 0) }
    }
}

/// The median of a list (the mean of the middle two for even counts), nil when empty.
public func median(_ values: [Float]) -> Float? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
