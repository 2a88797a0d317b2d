import FileOutput
import Foundation
import ImageIO
import Visualization

/// An experiment as its config file states it: every key optional but `layers`, defaults filled in.
///
/// Configs list only what differs from these defaults (nanoGPT style); unknown keys and bad values are refused
/// with the key and the file named.
public struct ExperimentConfig: OutputDocument, Equatable {
    public static let schema = "filtervis.experiment.config/2"
    /// Which files a run produces.
    public enum Output: String, Codable, CaseIterable, Comparable {
        case filters, patches, featuremaps, report
        public static func < (a: Output, b: Output) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Preset settings replaced for every preset of the run.
    public struct Overrides: Codable, Equatable {
        public var size: Int?
        public var steps: Int?
        public var lr: Float?
        public init(size: Int? = nil, steps: Int? = nil, lr: Float? = nil) { (self.size, self.steps, self.lr) = (size, steps, lr) }
    }

    /// Feature maps: the channel maps of `layers` for one photo.
    public struct FeatureMaps: Codable, Equatable {
        public var layers: [String]
        /// A file name inside the photos folder, or a path.
        public var photo: String
        /// The photo is resized (shorter side) and centre-cropped to this square before the forward pass.
        public var size = 224
        /// Each channel map is drawn at this many pixels square.
        public var tile = 96
    }

    /// Top-activating photo patches.
    public struct Patches: Codable, Equatable {
        public var top = 9
        public var perImage = 1
        /// Layers searched (default: the experiment's `layers`); filters are those of `filters` for the layer.
        public var layers: [String]?
        /// Photos per work unit (the unit of resumption and sharding).
        public var imagesPerUnit = 8
        /// Crop side in the galleries and cards.
        public var cropSize = 64
    }

    /// Filters per layer as the config gives them ("0-15", "all", or a list), resolved against the network later.
    public enum FilterChoice: Codable, Equatable {
        case same(String)
        case perLayer([String: String])

        /// Written as the config says it: a string, or an object of strings per layer.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .same(spec): try container.encode(spec)
            case let .perLayer(map): try container.encode(map)
            }
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let spec = try? container.decode(String.self) { self = .same(spec) } else { self = .perLayer(try container.decode([String: String].self)) }
        }
    }

    public var name: String
    public var model = "vgg16"
    public var layers: [String] = []
    public var filters: FilterChoice = .same("0-15")
    public var presets: [String] = ["default"]
    public var overrides = Overrides()
    public var seeds: [UInt64] = [0]
    /// The photo folder; nil means the photo cache `$FILTERVIS_CACHE/photos`.
    public var photos: String?
    public var outputs: [Output] = [.filters, .patches, .report]
    public var featuremaps: FeatureMaps?
    public var patches = Patches()
    /// Filters per filter-image work unit (and optimised together).
    public var batch = 8
    public var threads: Int?

    public init(name: String) { self.name = name }

    /// The filter selection text for `layer`.
    public func filterSpec(for layer: String) -> String {
        switch filters {
        case let .same(spec): return spec
        case let .perLayer(map): return map[layer] ?? "all"
        }
    }

    /// The layers searched for patches.
    public var patchLayers: [String] { patches.layers ?? layers }
}

// MARK: - Reading

extension ExperimentConfig {
    static let topKeys = ["name", "model", "layers", "filters", "preset", "overrides", "seeds", "photos", "outputs",
                          "featuremaps", "patches", "batch", "threads"]

    /// Reads and checks a config file; the experiment's name defaults to the file's stem.
    public static func load(_ url: URL, displayName: String? = nil) throws -> ExperimentConfig {
        let file = displayName ?? url.path
        let bytes: [UInt8]
        do { bytes = try FileReading.bytes(of: url, limit: FileReading.textLimit) } catch let error as FileReadError {
            throw ExperimentError.unreadable(file: file, reason: "cannot read this config: \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ExperimentError.unreadable(file: file, reason: "cannot read this config: it is not UTF-8 text")
        }
        return try parse(text, file: file, defaultName: url.deletingPathExtension().lastPathComponent)
    }

    /// Parses config text; `file` is named in every error.
    public static func parse(_ text: String, file: String, defaultName: String) throws -> ExperimentConfig {
        let root = try JSON5Parser.parse(text, file: file)
        let reader = ConfigReader(file: file)
        let members = try reader.object(root, context: "the config", known: topKeys, line: 1)
        var config = ExperimentConfig(name: defaultName)
        var sawOutputs = false
        for (key, value, line) in members {
            let r = reader.at(line)
            switch key {
            case "name":
                config.name = try r.string(value, key: key)
                guard !config.name.isEmpty, !config.name.contains("/") else {
                    throw r.error("'name' must be a non-empty folder name without '/'")
                }
            case "model": config.model = try r.string(value, key: key)
            case "layers": config.layers = try r.strings(value, key: key)
            case "filters": config.filters = try r.filters(value)
            case "preset":
                if case .string = value { config.presets = [try r.string(value, key: key)] } else { config.presets = try r.strings(value, key: key) }
                for name in config.presets { _ = try r.wrap(key) { try Preset.named(name) } }
            case "overrides": config.overrides = try r.overrides(value)
            case "seeds":
                config.seeds = try r.list(value, key: key).map { UInt64(try r.integer($0, key: key, min: 0)) }
                guard !config.seeds.isEmpty, Set(config.seeds).count == config.seeds.count else {
                    throw r.error("'seeds' must be a non-empty list of distinct numbers, like [0, 1]")
                }
            case "photos": config.photos = try r.string(value, key: key)
            case "outputs":
                sawOutputs = true
                config.outputs = try r.strings(value, key: key).map { name in
                    guard let output = Output(rawValue: name) else {
                        throw r.error("'outputs' has '\(name)'; choose from \(Output.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return output
                }.sorted()
            case "featuremaps": config.featuremaps = try r.featureMaps(value)
            case "patches": config.patches = try r.patches(value)
            case "batch": config.batch = try r.integer(value, key: key, min: 1)
            case "threads": config.threads = try r.integer(value, key: key, min: 1, max: 1024)
            default: break  // unknown keys were refused by `object`
            }
        }
        if config.layers.isEmpty { throw reader.error("'layers' is missing; list the layers to visualise, e.g. layers: ['conv3_1']") }
        if !sawOutputs, config.featuremaps != nil { config.outputs = (config.outputs + [.featuremaps]).sorted() }
        if config.outputs.contains(.featuremaps), config.featuremaps == nil {
            throw reader.error("'outputs' lists featuremaps but there is no 'featuremaps' section ({layers: [...], photo: 'x.jpg'})")
        }
        config.outputs = Array(Set(config.outputs)).sorted()
        return config
    }
}

/// Reads typed values out of a parsed config, naming the key, the file and the line on every error.
struct ConfigReader {
    let file: String
    var line: Int?

    init(file: String, line: Int? = nil) { self.file = file; self.line = line }

    func at(_ line: Int) -> ConfigReader { ConfigReader(file: file, line: line) }
    func error(_ reason: String) -> ExperimentError { ExperimentError.badValue(file: file, line: line, reason: reason) }

    /// Runs `body`, prefixing any error it throws with the key.
    func wrap<T>(_ key: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ExperimentError { throw e } catch { throw self.error("'\(key)': \(error)") }
    }

    func object(_ value: JSON5Value, context: String, known: [String], line: Int) throws -> [(key: String, value: JSON5Value, line: Int)] {
        guard case let .object(members) = value else {
            throw ExperimentError.badValue(file: file, line: line, reason: "\(context) must be an object { ... }, found \(value.kindName)")
        }
        for member in members where !known.contains(member.key) {
            throw ExperimentError.badValue(file: file, line: member.line,
                                  reason: "unknown key '\(member.key)' in \(context) (known: \(known.joined(separator: ", ")))")
        }
        return members
    }

    func string(_ value: JSON5Value, key: String) throws -> String {
        guard case let .string(s) = value else { throw error("'\(key)' must be a string, found \(value.kindName)") }
        return s
    }

    func list(_ value: JSON5Value, key: String) throws -> [JSON5Value] {
        guard case let .array(items) = value else { throw error("'\(key)' must be a list [...], found \(value.kindName)") }
        return items
    }

    func strings(_ value: JSON5Value, key: String) throws -> [String] {
        let items = try list(value, key: key)
        guard !items.isEmpty else { throw error("'\(key)' must not be empty") }
        return try items.map { item in
            guard case let .string(s) = item else { throw error("'\(key)' must be a list of strings, found \(item.kindName) in it") }
            return s
        }
    }

    func integer(_ value: JSON5Value, key: String, min: Int, max: Int = Int(1e15)) throws -> Int {
        guard case let .number(v, text) = value, v.isFinite, v == v.rounded(), abs(v) < 1e15 else {
            throw error("'\(key)' must be a whole number, found \(value.kindName)")
        }
        guard Int(v) >= min else { throw error("'\(key)' must be at least \(min), found \(text)") }
        guard Int(v) <= max else { throw error("'\(key)' must be at most \(max), found \(text)") }
        return Int(v)
    }

    func number(_ value: JSON5Value, key: String) throws -> Double {
        guard case let .number(v, _) = value else { throw error("'\(key)' must be a number, found \(value.kindName)") }
        return v
    }

    /// "0-63", "all", "3,7", [3, 7], or {conv1_1: '0-63', conv5_1: [0, 1]}.
    func filters(_ value: JSON5Value) throws -> ExperimentConfig.FilterChoice {
        let hint = "'filters' must be a range like 0-63, a list, or 'all' (one for every layer, or an object per layer)"
        func one(_ value: JSON5Value, line: Int?) throws -> String {
            let r = ConfigReader(file: file, line: line)
            switch value {
            case let .string(s):
                let ok = s.trimmingCharacters(in: .whitespaces) == "all"
                    || (!s.isEmpty && s.allSatisfy { $0.isNumber || $0 == "-" || $0 == "," || $0 == " " })
                guard ok else { throw r.error(hint + ", found '\(s)'") }
                return s
            case let .array(items):
                guard !items.isEmpty else { throw r.error(hint + ", found an empty list") }
                return try items.map { String(try r.integer($0, key: "filters", min: 0)) }.joined(separator: ",")
            default:
                throw r.error(hint + ", found \(value.kindName)")
            }
        }
        if case let .object(members) = value {
            var map: [String: String] = [:]
            for member in members { map[member.key] = try one(member.value, line: member.line) }
            return .perLayer(map)
        }
        return .same(try one(value, line: line))
    }

    func overrides(_ value: JSON5Value) throws -> ExperimentConfig.Overrides {
        var out = ExperimentConfig.Overrides()
        for (key, v, line) in try object(value, context: "'overrides'", known: ["size", "steps", "lr"], line: line ?? 1) {
            let r = at(line)
            switch key {
            case "size": out.size = try r.integer(v, key: "overrides.size", min: 16)
            case "steps": out.steps = try r.integer(v, key: "overrides.steps", min: 1, max: 1_000_000)
            default:
                let lr = try r.number(v, key: "overrides.lr")
                guard lr > 0, lr.isFinite, Float(lr).isFinite else { throw r.error("'overrides.lr' must be positive and finite, found \(lr)") }
                out.lr = Float(lr)
            }
        }
        return out
    }

    func featureMaps(_ value: JSON5Value) throws -> ExperimentConfig.FeatureMaps {
        var layers: [String]?, photo: String?, size = 224, tile = 96
        for (key, v, line) in try object(value, context: "'featuremaps'", known: ["layers", "photo", "size", "tile"], line: line ?? 1) {
            let r = at(line)
            switch key {
            case "layers": layers = try r.strings(v, key: "featuremaps.layers")
            case "photo": photo = try r.string(v, key: "featuremaps.photo")
            case "size": size = try r.integer(v, key: "featuremaps.size", min: 16)
            default: tile = try r.integer(v, key: "featuremaps.tile", min: 8, max: 512)
            }
        }
        guard let layers, let photo else { throw error("'featuremaps' needs both 'layers' and 'photo'") }
        return .init(layers: layers, photo: photo, size: size, tile: tile)
    }

    func patches(_ value: JSON5Value) throws -> ExperimentConfig.Patches {
        var out = ExperimentConfig.Patches()
        let known = ["top", "perImage", "layers", "imagesPerUnit", "cropSize"]
        for (key, v, line) in try object(value, context: "'patches'", known: known, line: line ?? 1) {
            let r = at(line)
            switch key {
            case "top": out.top = try r.integer(v, key: "patches.top", min: 1, max: 1000)
            case "perImage": out.perImage = try r.integer(v, key: "patches.perImage", min: 1)
            case "layers": out.layers = try r.strings(v, key: "patches.layers")
            case "imagesPerUnit": out.imagesPerUnit = try r.integer(v, key: "patches.imagesPerUnit", min: 1)
            default: out.cropSize = try r.integer(v, key: "patches.cropSize", min: 8, max: 512)
            }
        }
        return out
    }
}
