import Checkpoints
import FileOutput
import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// Runs an experiment's work units into its output folder, skipping the finished ones, then assembles the
/// grids, galleries, manifest and report once every unit is done (`ExperimentAssembler`).
///
/// No I/O besides the output folder and the photos; progress goes to `onEvent`.
public final class ExperimentRunner {
    public enum Event {
        case skipped(WorkUnit, position: Int, total: Int)
        case started(WorkUnit, position: Int, total: Int)
        case step(WorkUnit, done: Int, total: Int)
        case finished(WorkUnit, seconds: Double)
        /// Another process holds the assembly lock; this one waits for it.
        case waitingForAssembler(holder: String)
        case assembling
        /// The report on disk was already assembled from exactly these units (by another shard): left alone.
        case reportCurrent
    }

    /// What one invocation did.
    public struct Summary {
        public var computed: [String] = []
        public var skipped: [String] = []
        /// Units of the whole experiment (all shards) still missing.
        public var missing: [String] = []
        /// The report is complete and current (assembled by this invocation or found so).
        public var assembled = false
        /// This invocation wrote the report (false when another shard had assembled it from the same units).
        public var wroteReport = false
        public var wallSeconds = 0.0
    }

    public let plan: ExperimentPlan
    public let store: ExperimentStore
    private var networkSeconds = 0.0

    public init(plan: ExperimentPlan, output: URL) {
        self.plan = plan
        self.store = ExperimentStore(root: output)
    }

    /// Runs this shard's units (all of them for `.whole`), then assembles the outputs if nothing is missing.
    public func run(shard: Shard = .whole, onEvent: (Event) -> Void = { _ in }) throws -> Summary {
        let started = Date()
        var summary = Summary()
        try store.writeJSON(plan.config, to: "config.json")
        let units = plan.units
        for (position, unit) in units.enumerated() where shard.owns(position: position) {
            if store.finishedRecord(unit, fingerprint: try fingerprint(unit)) != nil {
                summary.skipped.append(unit.id)
                onEvent(.skipped(unit, position: position, total: units.count))
                continue
            }
            onEvent(.started(unit, position: position, total: units.count))
            let unitStart = Date()
            networkSeconds = 0
            let record = try compute(unit) { done, total in onEvent(.step(unit, done: done, total: total)) }
            let seconds = Date().timeIntervalSince(unitStart)
            try store.saveRecord(record, timing: UnitTiming(seconds: seconds, networkSeconds: networkSeconds))
            summary.computed.append(unit.id)
            onEvent(.finished(unit, seconds: seconds))
        }
        summary.missing = try missingUnits().map(\.id)
        if summary.missing.isEmpty {
            summary.wroteReport = try assemble(force: false, invocationStart: started, onEvent: onEvent)
            summary.assembled = true
        }
        summary.wallSeconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Assembles the report under the folder's lock, so shards that finish together write it once; returns
    /// whether this call wrote it. Without `force`, a report already assembled from exactly the current units is
    /// left alone (byte for byte, timings included). Temporaries of killed writers are removed first.
    @discardableResult
    public func assemble(force: Bool, invocationStart: Date = Date(), onEvent: (Event) -> Void = { _ in }) throws -> Bool {
        try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true)
        let lock = try AssemblyLock.acquire(in: store.root) { onEvent(.waitingForAssembler(holder: $0.description)) }
        defer { lock.release() }
        TemporaryFiles.removeAbandoned(under: store.root)
        if !force, reportIsCurrent() {
            onEvent(.reportCurrent)
            return false
        }
        onEvent(.assembling)
        try ExperimentAssembler(plan: plan, store: store).assemble(invocationStart: invocationStart)
        return true
    }

    /// manifest.json (written last) exists, is of this version and config, and lists exactly the units' current
    /// files; and index.html is there when the config wants a report.
    public func reportIsCurrent() -> Bool {
        guard let manifest = try? store.readJSON(ExperimentManifest.self, from: "manifest.json"),
              manifest.version == FilterVisVersion.current, manifest.config == plan.config,
              !plan.config.outputs.contains(.report) || FileManager.default.fileExists(atPath: store.url("index.html").path)
        else { return false }
        let current = plan.units.map { unit in
            store.finishedRecord(unit, fingerprint: (try? fingerprint(unit)) ?? "").map { ExperimentManifest.UnitEntry(id: unit.id, files: $0.files) }
        }
        return current.count == manifest.units.count && zip(current, manifest.units).allSatisfy { $0 == $1 }
    }

    /// Units of the whole experiment without a current done-record.
    public func missingUnits() throws -> [WorkUnit] {
        try plan.units.filter { store.finishedRecord($0, fingerprint: try fingerprint($0)) == nil }
    }

    // MARK: Fingerprints

    /// Everything a unit's files depend on; a change in any of these recomputes the unit.
    struct UnitInputs: Encodable {
        let version: String
        let model: String
        let weightsSHA256: String
        let unit: WorkUnit
        let preset: PresetDescription?
        let patches: PatchSearchSettings?
        /// The filters a patch search keeps (filter units name theirs in `unit`).
        let patchFilters: [Int]?
        let featuremaps: ExperimentConfig.FeatureMaps?
    }

    func fingerprint(_ unit: WorkUnit) throws -> String {
        var preset: PresetDescription?, patches: PatchSearchSettings?, maps: ExperimentConfig.FeatureMaps?, kept: [Int]?
        switch unit {
        case let .filters(_, name, _, _, _): preset = PresetDescription(plan.preset(named: name))
        case let .patches(layer, _, _): (patches, kept) = (plan.patchSettings, plan.filters[layer])
        case .featuremaps: maps = plan.config.featuremaps
        }
        let inputs = UnitInputs(version: FilterVisVersion.current, model: plan.network.name,
                                weightsSHA256: plan.weights["file_sha256"] ?? "", unit: unit, preset: preset,
                                patches: patches, patchFilters: kept, featuremaps: maps)
        return SHA256.hex(of: Data(try OutputJSON.encodePart(inputs)))
    }

    // MARK: Units

    /// Times `body` as network time (forward/backward passes and what the engine does between them).
    private func network<T>(_ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { networkSeconds += Date().timeIntervalSince(start) }
        return try body()
    }

    func compute(_ unit: WorkUnit, onStep: (Int, Int) -> Void) throws -> UnitRecord {
        let fingerprint = try fingerprint(unit)
        switch unit {
        case let .filters(layer, presetName, seed, _, filters):
            return try computeFilters(unit, layer: layer, preset: plan.preset(named: presetName), seed: seed,
                                      filters: filters, fingerprint: fingerprint, onStep: onStep)
        case let .patches(layer, part, images):
            let scoreLayer = plan.scoreLayer(layer)
            let urls = images.map { plan.photoFolder.appendingPathComponent($0) }
            let result = try network {
                try PatchSearch.run(network: plan.network, layers: [scoreLayer], images: urls, settings: plan.patchSettings,
                                    filters: [scoreLayer.name: plan.filters[layer]!], onImage: onStep)
            }
            let path = ExperimentLayout.patchPart(layer: layer, part: part)
            let sha = try store.writeJSON(result, to: path)
            return UnitRecord(unit: unit, fingerprint: fingerprint, files: [path: sha], filters: nil)
        case let .featuremaps(layer):
            let maps = plan.config.featuremaps!
            let input = try FeatureMaps.input(photo: ExperimentPlan.photoURL(maps.photo, folder: plan.photoFolder), size: maps.size)
            let activations = try network { try FeatureMaps.activations(network: plan.network, layer: plan.layers[layer]!, input: input) }
            let path = ExperimentLayout.featureMaps(layer: layer)
            let sha = try store.write(try FeatureMaps.grid(activations, tile: maps.tile), to: path)
            onStep(1, 1)
            return UnitRecord(unit: unit, fingerprint: fingerprint, files: [path: sha], filters: nil)
        }
    }

    private func computeFilters(_ unit: WorkUnit, layer: String, preset: Preset, seed: UInt64, filters: [Int],
                                fingerprint: String, onStep: (Int, Int) -> Void) throws -> UnitRecord {
        let job = try VisualizationJob(network: plan.network, layer: plan.layers[layer]!, filters: filters, preset: preset, seed: seed,
                                       batchSize: filters.count, sizeSetting: "overrides.size")
        let results = try network { try job.run(onStep: onStep) }
        try FilterResult.requireFiniteScores(results, layer: layer)
        let images = results.map { Image(tensor: reshape($0.rgb, [1] + $0.rgb.shape)) }
        // The peak is measured on the saved 8-bit image, the same tensor the patch search reads.
        let activations = network { GradMode.withoutGrad { plan.network.forward(Image.tensor(images), to: job.taps.score) } }
        let peaks = channelPeaks(activations, channels: filters)
        var files: [String: String] = [:]
        var records: [FilterRecord] = []
        for (i, result) in results.enumerated() {
            let path = ExperimentLayout.filterImage(layer: layer, preset: preset.name, seed: seed, filter: result.filter)
            files[path] = try store.write(images[i], to: path)
            records.append(FilterRecord(result, image: path, peak: peaks[i]))
        }
        return UnitRecord(unit: unit, fingerprint: fingerprint, files: files, filters: records)
    }

    /// max over positions of `x[b, channels[b]]` for each image b of (N, C, H, W).
    func channelPeaks(_ x: Tensor, channels: [Int]) -> [Float] {
        let (c, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        return channels.enumerated().map { b, channel in
            let start = (b * c + channel) * plane
            return x.storage[start..<(start + plane)].max() ?? 0
        }
    }
}

extension ExperimentPlan {
    /// The patch search settings of the config.
    public var patchSettings: PatchSearchSettings {
        PatchSearchSettings(top: config.patches.top, perImage: config.patches.perImage, scales: [])
    }
}

/// Where each output lives inside the experiment folder (all paths relative to it).
public enum ExperimentLayout {
    public static func filterImage(layer: String, preset: String, seed: UInt64, filter: Int) -> String {
        "\(layer)/\(preset)/seed\(seed)/\(OutputNames.filter(filter)).png"
    }
    public static func grid(layer: String, preset: String, seed: UInt64) -> String { "\(layer)/grid-\(preset)-seed\(seed).png" }
    public static func patchPart(layer: String, part: Int) -> String { "\(layer)/patches/part\(WorkUnit.pad3(part)).json" }
    public static func patches(layer: String) -> String { "\(layer)/patches.json" }
    public static func patchGallery(layer: String) -> String { "\(layer)/patches.png" }
    public static func patchCrop(layer: String, filter: Int, rank: Int) -> String { "\(layer)/patches/\(OutputNames.filter(filter))_\(rank).png" }
    public static func featureMaps(layer: String) -> String { "\(layer)/featuremaps.png" }
    public static let featureMapPhoto = "featuremaps-photo.png"
    public static func card(layer: String, filter: Int) -> String { "\(layer)/\(OutputNames.filter(filter)).html" }
}
