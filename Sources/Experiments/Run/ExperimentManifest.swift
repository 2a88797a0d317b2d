import FileOutput
import ImageIO
import Models
import Visualization

/// manifest.json: the resolved config, provenance, every unit's files, per-filter numbers, and (apart, under
/// `timings`, the only field that differs between reruns) how long it all took.
public struct ExperimentManifest: OutputDocument, Equatable {
    public static let schema = "filtervis.experiment.manifest/2"
    public var tool = "filtervis"
    public var version: String
    public var name: String
    public var config: ExperimentConfig
    public var model: String
    public var weights: [String: String]
    public var preprocessing: String
    public var presets: [PresetDescription]
    public var seeds: [UInt64]
    /// How 3x3 convolutions were computed: "auto" (Winograd where eligible) or "direct" (FILTERVIS_CONV); the two
    /// round differently, so reruns match byte for byte only under the same one. Absent in older manifests.
    public var convolution: String?
    public var photos: PhotoSet?
    /// What each number means (which tensor, which image).
    public var definitions: [String: String]
    public var units: [UnitEntry]
    public var layers: [LayerSummary]
    public var featuremaps: FeatureMapsEntry?
    public var timings: Timings

    public struct PhotoSet: Codable, Equatable {
        /// As configured (the cache folder is written as $FILTERVIS_CACHE/photos, so manifests do not name machines).
        public var folder: String
        public var files: [String]
    }

    public struct UnitEntry: Codable, Equatable {
        public var id: String
        public var files: [String: String]
    }

    public struct LayerSummary: Codable, Equatable {
        public var layer: String
        /// The tensor scores, peaks and patch activations are read from (the conv's post-ReLU output).
        public var scoreTensor: String
        public var grids: [String]
        public var patchGallery: String?
        public var patchPhotos: Int?
        public var skippedPhotos: [SkippedFile]?
        public var filters: [FilterSummary]
    }

    public struct FilterSummary: Codable, Equatable {
        public var filter: Int
        public var card: String?
        public var presets: [PresetSummary]
        public var patches: [PatchRecord]
        public var bestPatchActivation: Float?
    }

    public struct PresetSummary: Codable, Equatable {
        public var preset: String
        public var seeds: [SeedEntry]
        public var meanScore: Float
        /// max - min of the seeds' scores.
        public var scoreSpread: Float
        /// Mean pairwise Pearson correlation of the seeds' saved images (nil with one seed).
        public var seedCorrelation: Double?
        /// Dead when the filter stayed at or below zero for every seed.
        public var dead: Bool
        /// The best seed's peak over the best natural patch's activation (same tensor), when patches were searched.
        public var peakOverBestPatch: Float?
    }

    public struct SeedEntry: Codable, Equatable {
        public var seed: UInt64
        public var image: String
        public var score: Float
        public var peak: Float
        public var dead: Bool
    }

    public struct FeatureMapsEntry: Codable, Equatable {
        public var photo: String
        public var input: String
        public var size: Int
        public var layers: [String: String]
    }

    public struct Timings: Codable, Equatable {
        /// This invocation, from start to the manifest (the whole run when nothing was resumed or sharded).
        public var wallSeconds: Double
        /// Sum over all units (across shards and reruns) of their computing time.
        public var unitSeconds: Double
        /// The part of unitSeconds spent inside the engine's network work (VisualizationJob.run, forward passes of
        /// the patch search, the score peaks and the feature maps), as opposed to files, PNG coding and bookkeeping.
        public var networkSeconds: Double
        /// networkSeconds / (unitSeconds + assembleSeconds).
        public var networkShare: Double
        /// Grids, galleries, crops, manifest and report.
        public var assembleSeconds: Double
        public var threads: Int
        public var units: [String: UnitTiming]
    }
}
