import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// Writes a visualisation run: one PNG per filter, the labelled grid, and manifest.json. The files go into a
/// temporary folder that replaces --out as a whole (`OutputFolder`), so a failed or killed run leaves the earlier
/// run's files as they were, and a smaller run leaves none of a larger earlier one's behind.
enum VisualizationOutput {
    enum Order { case index, score }

    struct Manifest: Codable {
        struct FilterEntry: Codable {
            let filter: Int
            let image: String
            let score: Float
            let dead: Bool
            let bestPhotoScore: Float?
            let bestPhoto: String?
            let photoRatio: Float?
            let curve: [Float]
        }
        struct Baseline: Codable {
            let photos: Int
            let size: Int
            let definition: String
            let medianRatio: Float?
            let minRatio: Float?
            let filtersAtOrAboveBestPhoto: Int
        }
        let tool: String
        let version: String
        let model: String
        let layer: String
        let objectiveLayer: String
        let scoreLayer: String
        let scoreDefinition: String
        let weights: [String: String]
        let preprocessing: String
        let preset: PresetDescription
        let seed: UInt64
        /// How 3x3 convolutions were computed: "auto" (Winograd where eligible) or "direct" (FILTERVIS_CONV).
        let convolution: String
        let threads: Int
        let batch: Int
        let wallSeconds: Double
        let deadFilters: [Int]
        let photoBaseline: Baseline?
        let filters: [FilterEntry]
    }

    static func imageName(_ filter: Int) -> String { String(format: "filter_%04d.png", filter) }

    /// The files a run writes (anything else in --out is refused).
    static let layout = OutputLayout(command: "visualize", files: "filter_NNNN.png, grid.png, manifest.json") { path, isDirectory in
        path.count == 1 && !isDirectory
            && (["grid.png", "manifest.json"].contains(path[0]) || OutputLayout.numbered(path[0], "filter_", 1, ".png"))
    }

    static func write(results: [FilterResult], job: VisualizationJob, baseline: PhotoBaseline?, order: Order,
                      wallSeconds: Double, to dir: URL) throws {
        try OutputFolder.replace(dir, for: layout) { staging in
            try write(results: results, job: job, baseline: baseline, order: order, wallSeconds: wallSeconds, into: staging)
        }
    }

    private static func write(results: [FilterResult], job: VisualizationJob, baseline: PhotoBaseline?, order: Order,
                              wallSeconds: Double, into dir: OutputStaging) throws {
        var tiles: [(label: String, image: Image)] = []
        for result in results {
            let image = Image(tensor: reshape(result.rgb, [1] + result.rgb.shape))
            try dir.write(image, to: imageName(result.filter))
            tiles.append((String(result.filter), image))
        }
        let ordered = order == .index ? Array(zip(results, tiles)) : zip(results, tiles).sorted { $0.0.score > $1.0.score }
        let columns = Int(Double(results.count).squareRoot().rounded(.up))
        let grid = try Image.grid(ordered.map(\.1.image), labels: ordered.map(\.1.label), layout: GridLayout(columns: columns))
        try dir.write(grid, to: "grid.png")

        let taps = job.taps
        let ratios = baseline?.ratios(results.map(\.score))
        let summary = baseline.map { b in
            Manifest.Baseline(photos: b.photoCount, size: job.preset.size,
                              definition: "each photo resized (shorter side) to the image size and centre-cropped; best post-ReLU spatial mean per filter",
                              medianRatio: ratios.flatMap(median), minRatio: ratios?.min(),
                              filtersAtOrAboveBestPhoto: ratios?.filter { $0 >= 1 }.count ?? 0)
        }
        let entries = results.enumerated().map { i, r in
            Manifest.FilterEntry(filter: r.filter, image: imageName(r.filter), score: r.score, dead: r.isDead,
                                 bestPhotoScore: baseline?.best[i], bestPhoto: baseline?.bestPhoto[i], photoRatio: ratios?[i],
                                 curve: r.curve)
        }
        let manifest = Manifest(
            tool: "filtervis", version: FilterVisVersion.current, model: job.network.name, layer: job.layer.name,
            objectiveLayer: taps.objective.path, scoreLayer: taps.score.path,
            scoreDefinition: "spatial mean of the filter's post-ReLU output on the final image at \(job.preset.size) px, no transforms",
            weights: job.network.provenance, preprocessing: job.network.preprocessing.rawValue,
            preset: PresetDescription(job.preset), seed: job.seed, convolution: ConvAlgorithm.current.rawValue,
            threads: Parallel.threads, batch: job.batchSize,
            wallSeconds: wallSeconds, deadFilters: results.filter(\.isDead).map(\.filter), photoBaseline: summary,
            filters: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try dir.write(Array(encoder.encode(manifest)), to: "manifest.json")
    }
}
