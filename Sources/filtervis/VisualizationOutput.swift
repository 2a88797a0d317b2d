import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// Writes a visualisation run: one PNG per filter, the labelled grid, and manifest.json. Every file is written
/// to a temporary name and renamed, so an interrupted run leaves only complete files.
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

    static func write(results: [FilterResult], job: VisualizationJob, baseline: PhotoBaseline?, order: Order,
                      wallSeconds: Double, to dir: URL) throws {
        var tiles: [(label: String, image: Image)] = []
        for result in results {
            let image = Image(tensor: reshape(result.rgb, [1] + result.rgb.shape))
            try image.write(to: dir.appendingPathComponent(imageName(result.filter)))
            tiles.append((String(result.filter), image))
        }
        let ordered = order == .index ? Array(zip(results, tiles)) : zip(results, tiles).sorted { $0.0.score > $1.0.score }
        let columns = Int(Double(results.count).squareRoot().rounded(.up))
        let grid = try Image.grid(ordered.map(\.1.image), labels: ordered.map(\.1.label), layout: GridLayout(columns: columns))
        try grid.write(to: dir.appendingPathComponent("grid.png"))

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
            tool: "filtervis", version: FilterVisVersion.current, model: job.network.name, layer: job.layer,
            objectiveLayer: taps.objective, scoreLayer: taps.score,
            scoreDefinition: "spatial mean of the filter's post-ReLU output on the final image at \(job.preset.size) px, no transforms",
            weights: job.network.provenance, preprocessing: job.network.preprocessing.rawValue,
            preset: PresetDescription(job.preset), seed: job.seed, convolution: ConvAlgorithm.current.rawValue,
            threads: Parallel.threads, batch: job.batchSize,
            wallSeconds: wallSeconds, deadFilters: results.filter(\.isDead).map(\.filter), photoBaseline: summary,
            filters: entries)
        try writeJSON(manifest, to: dir.appendingPathComponent("manifest.json"))
    }
}

/// Encodes `value` as pretty, key-sorted JSON and writes it atomically.
func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try writeAtomically(Array(encoder.encode(value)), to: url)
}

/// The output folder: created if missing, and proven writable before any work starts.
enum OutputFolder {
    static func prepare(_ dir: URL) throws {
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let probe = dir.appendingPathComponent(".filtervis-write-test-\(ProcessInfo.processInfo.processIdentifier)")
            try Data().write(to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw CLIError("\(dir.path): cannot write to this output folder (\(error.localizedDescription)); choose another --out")
        }
    }
}
