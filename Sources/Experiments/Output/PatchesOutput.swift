import FileOutput
import Foundation
import ImageIO
import Models
import TensorCore
import Visualization

/// The files of a patch search: per layer a gallery, one strip per filter, optional crops, and index.json.
/// They are written into a temporary folder that replaces --out as a whole (`OutputFolder`).
public enum PatchesOutput {
    /// The files a run writes (anything else in --out is refused).
    public static let layout = OutputLayout(command: "patches", files: "index.json, LAYER/gallery.png, LAYER/filter_NNNN.png, LAYER/crops/") { path, isDirectory in
        switch path.count {
        case 1: return isDirectory || path[0] == "index.json"
        case 2: return isDirectory ? path[1] == "crops" : path[1] == "gallery.png" || OutputLayout.numbered(path[1], "filter_", 1, ".png")
        case 3: return !isDirectory && path[1] == "crops" && OutputLayout.numbered(path[2], "filter_", 2, ".png")
        default: return false
        }
    }

    /// One layer's files and the patches of the filters drawn.
    public struct LayerEntry: Codable, Equatable, Sendable {
        public let gallery: String
        public let module: String
        public let receptiveField: ReceptiveFieldDescription
        /// The filters searched (--filters), each with its strip and (with --save-crops) crops.
        public let filters: [FilterPatches]
    }

    public struct ReceptiveFieldDescription: Codable, Equatable, Sendable {
        public let size: Int, jump: Int, firstOffset: Int
    }

    /// index.json: how the search ran and, per layer, what was written and each filter's patches.
    public struct Index: OutputDocument, Equatable {
        public static let schema = "filtervis.patches.index/3"
        public let tool: String
        public let version: String
        public let weights: [String: String]
        public let preprocessing: String
        /// --images as an absolute path; photos and skipped files are named inside it.
        public let imagesFolder: String
        public let threads: Int
        public let wallSeconds: Double
        public let paddingColor: String
        public let rectangles: String
        public let model: String
        public let settings: PatchSearchSettings
        /// Photos searched (skipped files not counted).
        public let photos: Int
        public let skipped: [SkippedFile]
        public let layers: [String: LayerEntry]
    }

    /// Runs the search's writing into `dir` (replaced as a whole): galleries, strips, crops, then index.json.
    /// `wallSeconds` is asked for once the images are written, so the index records the whole run.
    public static func write(_ result: PatchSearchResult, network: Network, filters: [String: [Int]], tile: Int,
                             saveCrops: Bool, images: URL, to dir: URL, wallSeconds: () -> Double) throws {
        try OutputFolder.replace(dir, for: layout) { staging in
            let writer = ResultWriter(staging: staging)
            let layers = try write(result, network: network, filters: filters, tile: tile, saveCrops: saveCrops, images: images, to: writer)
            try writeIndex(result, layers: layers, network: network, images: images, wallSeconds: wallSeconds(), to: writer)
        }
    }

    static func write(_ result: PatchSearchResult, network: Network, filters: [String: [Int]], tile: Int,
                      saveCrops: Bool, images: URL, to dir: ResultWriter) throws -> [String: LayerEntry] {
        var layers: [String: LayerEntry] = [:]
        let columns = result.settings.top
        for (layer, perFilter) in result.layers.sorted(by: { $0.key < $1.key }) {
            let chosen = filters[layer] ?? Array(perFilter.indices)
            // Crops for every patch of the layer at once, so that each photo is decoded once.
            let patches = chosen.flatMap { perFilter[$0] }
            let tiles = try PatchSearch.crops(patches, size: tile)
            let full = saveCrops ? try PatchSearch.crops(patches) : nil
            var offsets: [Int] = [0]
            for filter in chosen { offsets.append(offsets.last! + perFilter[filter].count) }
            let rows = chosen.indices.map { j in
                (label: String(chosen[j]), crops: Array(tiles[offsets[j]..<offsets[j + 1]]), activations: perFilter[chosen[j]].map(\.activation))
            }

            // Strips (and crops) per filter, filters split over the workers; each writes only its own files.
            var entries = [Result<FilterPatches, Error>?](repeating: nil, count: chosen.count)
            entries.withUnsafeMutableBufferPointer { slots in
                let slots = slots
                Parallel.forEach(chosen.count) { j in
                    slots[j] = Result {
                        let filter = chosen[j]
                        let stripName = "\(layer)/" + OutputNames.filterImage(filter)
                        try dir.write(PatchGallery.strip(label: rows[j].label, crops: rows[j].crops, activations: rows[j].activations,
                                                         columns: columns, tile: tile), to: stripName)
                        let records = try perFilter[filter].enumerated().map { rank, patch in
                            var crop: String?
                            if let full {
                                crop = "\(layer)/crops/" + OutputNames.crop(filter, rank: rank)
                                try dir.write(full[offsets[j] + rank], to: crop!)
                            }
                            return PatchRecord(patch, rank: rank + 1, folder: images, crop: crop)
                        }
                        return FilterPatches(filter: filter, strip: stripName, patches: records)
                    }
                }
            }
            let galleryName = "\(layer)/gallery.png"
            try dir.write(PatchGallery.rows(rows, columns: columns, tile: tile), to: galleryName)
            let target = try network.layer(layer)
            let field = network.receptiveField(of: target)
            layers[layer] = LayerEntry(gallery: galleryName, module: target.path,
                                       receptiveField: .init(size: field.size, jump: field.jump, firstOffset: field.firstOffset),
                                       filters: try entries.map { try $0!.get() })
        }
        return layers
    }

    static func writeIndex(_ result: PatchSearchResult, layers: [String: LayerEntry], network: Network, images: URL,
                           wallSeconds: Double, to dir: ResultWriter) throws {
        let index = Index(
            tool: "filtervis", version: FilterVisVersion.current, weights: network.provenance,
            preprocessing: network.preprocessing.rawValue, imagesFolder: images.path, threads: Parallel.threads,
            wallSeconds: wallSeconds, paddingColor: "rgb(128,128,128) where a receptive field crosses the photo's border",
            rectangles: "receptive field of the unit in the original photo's pixels (rows top..<top+height, columns left..<left+width), "
                + "mapped back through the centre crop and resize, rounded outward, not clipped",
            model: result.model, settings: result.settings, photos: result.imageCount,
            skipped: result.skipped.map { SkippedFile(path: PatchRecord.photoName($0.path, folder: images), reason: $0.reason) },
            layers: layers)
        try dir.write(document: index, to: "index.json")
    }

    /// Reads index.json back.
    public static func readIndex(_ url: URL) throws -> Index {
        let data: Data
        do { data = Data(try FileReading.bytes(of: url, limit: FileReading.textLimit)) } catch let error as FileReadError {
            throw PatchesIndexError.unreadable(file: url.path, reason: error.reason)
        }
        return try OutputJSON.decode(Index.self, from: data, file: url.path)
    }
}

/// Why a patches index cannot be read.
public enum PatchesIndexError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "\(file): cannot read the patches index (\(reason)); run `filtervis patches` first"
        }
    }
}
