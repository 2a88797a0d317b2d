import FileOutput
import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// Writes a visualisation run through the one `ResultWriter`: one PNG per filter, the labelled grid, and manifest.json. The files go into a
/// temporary folder that replaces --out as a whole (`OutputFolder`), so a failed or killed run leaves the earlier
/// run's files as they were, and a smaller run leaves none of a larger earlier one's behind.
public enum VisualizationOutput {
    public enum Order: Sendable { case index, score }

    /// manifest.json of `visualize`.
    public struct Manifest: OutputDocument, Equatable {
        public static let schema = "filtervis.visualize.manifest/2"
        public struct Baseline: Codable, Equatable {
            public let photos: Int
            public let size: Int
            public let definition: String
            public let medianRatio: Float?
            public let minRatio: Float?
            public let filtersAtOrAboveBestPhoto: Int
        }
        public let tool: String
        public let version: String
        public let model: String
        public let layer: String
        public let objectiveLayer: String
        public let scoreLayer: String
        public let scoreDefinition: String
        public let weights: [String: String]
        public let preprocessing: String
        public let preset: PresetDescription
        public let seed: UInt64
        /// How 3x3 convolutions were computed: "auto" (Winograd where eligible) or "direct" (FILTERVIS_CONV).
        public let convolution: String
        public let threads: Int
        public let batch: Int
        public let wallSeconds: Double
        public let deadFilters: [Int]
        public let photoBaseline: Baseline?
        public let filters: [FilterRecord]
    }

    /// The files a run writes (anything else in --out is refused).
    public static let layout = OutputLayout(command: "visualize", files: "filter_NNNN.png, grid.png, manifest.json") { path, isDirectory in
        path.count == 1 && !isDirectory
            && (["grid.png", "manifest.json"].contains(path[0]) || OutputLayout.numbered(path[0], "filter_", 1, ".png"))
    }

    public static func write(results: [FilterResult], job: VisualizationJob, baseline: PhotoBaseline?, order: Order,
                      wallSeconds: Double, to dir: URL) throws {
        try OutputFolder.replace(dir, for: layout) { staging in
            try write(results: results, job: job, baseline: baseline, order: order, wallSeconds: wallSeconds,
                      into: ResultWriter(staging: staging))
        }
    }

    private static func write(results: [FilterResult], job: VisualizationJob, baseline: PhotoBaseline?, order: Order,
                              wallSeconds: Double, into dir: ResultWriter) throws {
        var tiles: [(label: String, image: Image)] = []
        for result in results {
            let image = Image(tensor: reshape(result.rgb, [1] + result.rgb.shape))
            try dir.write(image, to: OutputNames.filterImage(result.filter))
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
            FilterRecord(r, image: OutputNames.filterImage(r.filter),
                         bestPhotoScore: baseline?.best[i], bestPhoto: baseline?.bestPhoto[i], photoRatio: ratios?[i])
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
        try dir.write(document: manifest, to: "manifest.json")
    }
}
