import Visualization

/// One piece of an experiment that is computed, saved and skipped on rerun as a whole.
///
/// The unit list is a pure function of the config (and the photo folder's file names), in a fixed order, so
/// every shard of a job array computes the same list and takes its own share (`index % count == shard`).
public enum WorkUnit: Equatable, Codable {
    /// Preference images of a batch of a layer's filters, for one preset and seed.
    case filters(layer: String, preset: String, seed: UInt64, batch: Int, filters: [Int])
    /// Top patches of a layer's filters over a subset of the photos (file names inside the photo folder).
    case patches(layer: String, part: Int, images: [String])
    /// The channel maps of a layer for the feature-map photo.
    case featuremaps(layer: String)

    /// A file-name-safe identifier, unique within the experiment.
    public var id: String {
        switch self {
        case let .filters(layer, preset, seed, batch, _):
            return "filters-\(layer)-\(preset)-seed\(seed)-batch\(Self.pad3(batch))"
        case let .patches(layer, part, _): return "patches-\(layer)-part\(Self.pad3(part))"
        case let .featuremaps(layer): return "featuremaps-\(layer)"
        }
    }

    static func pad3(_ n: Int) -> String { n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : "\(n)" }
}

/// A shard of a job array: shard `index` of `count` runs the units whose position modulo `count` is `index`.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses "i/n" with 0 <= i < n.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw VisualizationError.badSetting("--shard '\(text)' must be i/n with 0 <= i < n, e.g. 0/8 (Slurm: $SLURM_ARRAY_TASK_ID/8)")
        }
        self.init(index: i, count: n)
    }

    public func owns(position: Int) -> Bool { position % count == index }
    public var description: String { "\(index)/\(count)" }
}
