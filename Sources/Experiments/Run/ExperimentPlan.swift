import Foundation
import Models
import Visualization

/// A config resolved against the network and the photo folder: the exact filters, presets, photos and units.
public struct ExperimentPlan {
    public let config: ExperimentConfig
    public let network: Network
    /// Filter indices per visualised layer, sorted.
    public let filters: [String: [Int]]
    /// Every layer the config names (visualised, patch and feature-map layers), resolved once.
    public let layers: [String: LayerRef]
    /// Each preset with the config's overrides applied, in config order.
    public let presets: [Preset]
    /// The photo folder (absolute) and its photos' file names, sorted; empty when no output needs photos.
    public let photoFolder: URL
    public let photos: [String]
    public let units: [WorkUnit]

    /// Resolves `config`; throws naming the key when a layer, filter, preset or photo does not exist.
    public init(config: ExperimentConfig, network: Network, file: String) throws {
        func fail(_ reason: String) -> ExperimentError { ExperimentError.badValue(file: file, line: nil, reason: reason) }
        func wrap<T>(_ key: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let e as ExperimentError { throw e } catch { throw fail("'\(key)': \(error)") }
        }
        guard config.model == network.name else { throw fail("'model' is \(config.model) but the network is \(network.name)") }
        self.config = config
        self.network = network

        var filters: [String: [Int]] = [:]
        var layers: [String: LayerRef] = [:]
        if case let .perLayer(map) = config.filters, let stray = map.keys.sorted().first(where: { !config.layers.contains($0) }) {
            throw fail("'filters' names the layer '\(stray)', which is not in 'layers' (\(config.layers.joined(separator: ", ")))")
        }
        let allLayers = Array(Set(config.layers + config.patchLayers)).sorted()
        for layer in allLayers {
            let ref = try wrap("layers") { try network.layer(layer) }
            layers[layer] = ref
            let spec = config.layers.contains(layer) ? config.filterSpec(for: layer) : "all"
            filters[layer] = try wrap("filters") { try FilterSelection.parse(spec, channels: ref.channels, layer: layer) }
        }
        self.filters = filters

        let presets = try config.presets.map { name in
            var preset = try wrap("preset") { try Preset.named(name) }
            if let size = config.overrides.size { preset.size = size }
            if let steps = config.overrides.steps { preset.steps = steps }
            if let lr = config.overrides.lr { preset.method = preset.method.withRate(lr) }
            return preset
        }
        self.presets = presets
        // Every filter unit's size must reach its layer in every octave and fit the memory budget.
        if config.outputs.contains(.filters) {
            for layer in config.layers {
                for preset in presets {
                    let batch = min(config.batch, filters[layer]?.count ?? 1)
                    _ = try wrap("overrides.size") {
                        try VisualizationJob(network: network, layer: layers[layer]!, filters: Array((filters[layer] ?? [0]).prefix(batch)),
                                             preset: preset, seed: 0, batchSize: batch, sizeSetting: "overrides.size")
                    }
                }
            }
        }

        let photoFolder = ExperimentPlan.resolvePhotoFolder(config.photos)
        self.photoFolder = photoFolder
        let needsPhotos = config.outputs.contains(.patches) || config.outputs.contains(.featuremaps)
        if config.outputs.contains(.patches) {
            let urls = try wrap("photos") { try PatchSearch.imageFiles(in: photoFolder) }
            guard !urls.isEmpty else { throw fail("'photos': \(photoFolder.path) has no .jpg/.png photos (run `make photos`)") }
            photos = urls.map(\.lastPathComponent)
        } else {
            photos = []
        }
        let photos = self.photos
        if needsPhotos, let maps = config.featuremaps {
            for layer in maps.layers {
                let ref = try wrap("featuremaps.layers") { try network.layer(layer) }
                layers[layer] = ref
                try wrap("featuremaps.size") { try FeatureMaps.checkSize(network: network, layer: ref, size: maps.size, setting: "featuremaps.size") }
            }
            let photo = ExperimentPlan.photoURL(maps.photo, folder: photoFolder)
            guard FileManager.default.fileExists(atPath: photo.path) else {
                throw fail("'featuremaps.photo': \(photo.path) does not exist (a name inside \(photoFolder.path), or a path)")
            }
        }

        var units: [WorkUnit] = []
        if config.outputs.contains(.filters) {
            for layer in config.layers {
                for preset in presets {
                    for seed in config.seeds {
                        let list = filters[layer]!
                        for (b, start) in stride(from: 0, to: list.count, by: config.batch).enumerated() {
                            let batch = Array(list[start..<min(start + config.batch, list.count)])
                            units.append(.filters(layer: layer, preset: preset.name, seed: seed, batch: b, filters: batch))
                        }
                    }
                }
            }
        }
        if config.outputs.contains(.patches) {
            for layer in config.patchLayers {
                for (part, start) in stride(from: 0, to: photos.count, by: config.patches.imagesPerUnit).enumerated() {
                    let subset = Array(photos[start..<min(start + config.patches.imagesPerUnit, photos.count)])
                    units.append(.patches(layer: layer, part: part, images: subset))
                }
            }
        }
        if config.outputs.contains(.featuremaps), let maps = config.featuremaps {
            for layer in maps.layers { units.append(.featuremaps(layer: layer)) }
        }
        self.layers = layers
        self.units = units
    }

    /// The photo folder: the configured one (relative to the working directory), else `$FILTERVIS_CACHE/photos`.
    public static func resolvePhotoFolder(_ configured: String?) -> URL {
        guard let configured else { return ModelCatalog.cacheDirectory.appendingPathComponent("photos", isDirectory: true) }
        let expanded = (configured as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded, isDirectory: true).standardizedFileURL
    }

    /// A photo named in the config: a file name inside `folder`, or a path (containing '/').
    public static func photoURL(_ name: String, folder: URL) -> URL {
        name.contains("/") ? URL(fileURLWithPath: (name as NSString).expandingTildeInPath) : folder.appendingPathComponent(name)
    }

    public func preset(named name: String) -> Preset { presets.first { $0.name == name }! }

    /// The layer a config layer's scores and patches are read from: the conv's post-ReLU output (the layer itself
    /// for anything else), as the visualisation engine scores it.
    public func scoreLayer(_ layer: String) -> LayerRef {
        network.layer(at: layers[layer]!.scoreNode)
    }

    /// The network's provenance without machine-specific paths (the weights file by name and sha256).
    public var weights: [String: String] {
        var w = network.provenance
        if let file = w["file"] { w["file"] = (file as NSString).lastPathComponent }
        return w
    }
}

