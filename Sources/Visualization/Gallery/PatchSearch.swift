import Checkpoints
import Foundation
import ImageIO
import Models
import TensorCore

/// Top-activating image patches: for each filter of some layers, the real image regions that excite it most.
///
/// One streaming pass over the images: each is decoded, preprocessed (see `PatchSearchSettings.scales`) and
/// forwarded once to the deepest requested layer; per filter only the best `top` candidates are kept
/// (`BoundedTopList`), never the activation maps of more than the images in flight. Images are decoded several
/// at a time in parallel, then forwarded in batches of equal-sized inputs with the network's own parallel
/// kernels; every filter's list is owned by one worker, so results are identical on any thread count.
public enum PatchSearch {
    /// Images decoded, then forwarded, together (a batch): enough to keep both cores busy while decoding and to give
    /// the deep convolutions wide matrices, small enough that the maps of one chunk stay a few hundred MB.
    public static let chunkSize = 4

    /// The heap policy a patch pass runs best with: photos of many sizes make the kept heap of the speed policy
    /// fragment (measured: peak 250-790 MiB over 40 photos), so large buffers go back to the system at once. The
    /// Winograd transforms stay cached (the default `ComputeSettings`): every batch goes through the same weights
    /// (VGG16 to conv5_3: about 100 MiB, once).
    public static let preferredAllocator = AllocatorPolicy.memory

    /// Input pixels forwarded together at most: `chunkSize` images at 224 x 224 (VGG16's first maps are then
    /// about 50 MB per tap); a batch always holds at least one image, however large.
    static let maxBatchPixels = chunkSize * 224 * 224

    /// The largest resized image a view may need (64 megapixels): beyond it an image is skipped.
    static let maxResizedPixels = 64 << 20

    // MARK: Inputs

    /// Image files under `folder` (recursive; JPEG/PNG by magic bytes, others ignored), sorted by path.
    public static func imageFiles(in folder: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PatchSearchError.folderUnreadable(folder: folder.path, reason: "no such folder")
        }
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else {
            throw PatchSearchError.folderUnreadable(folder: folder.path, reason: "cannot list it")
        }
        var found: [URL] = []
        for case let url as URL in walker {
            // Symbolic links to files count (the walker does not descend into linked folders).
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            // A FIFO or device is never opened (that could block forever); one named like a photo is listed, so the
            // search reports it as skipped ("not a regular file") instead of ignoring it silently.
            if FileReading.specialKind(atPath: url.path) != nil {
                if ["jpg", "jpeg", "png"].contains(url.pathExtension.lowercased()) { found.append(url.standardizedFileURL) }
                continue
            }
            guard let head = try? FileReading.head(of: url, count: 8) else { continue }
            if ImageFormat.detect(head) != nil { found.append(url.standardizedFileURL) }
        }
        return found.sorted { $0.path < $1.path }
    }

    /// Checks a search request (layers, filters, settings, and every scale against each layer and the memory
    /// budget) without reading any photo.
    public static func validate(network: Network, layers: [LayerRef], settings: PatchSearchSettings,
                                filters: [String: [Int]]? = nil) throws {
        _ = try SearchPlan(network: network, layers: layers, settings: settings, filters: filters)
    }

    // MARK: Search

    /// One streaming pass: each image decoded, preprocessed, forwarded ONCE to the deepest layer, top-k kept per
    /// channel in bounded memory (a bounded list per channel; never all activations).
    ///
    /// `filters` restricts a layer (by its `name`) to some filters; the others get empty lists. Results are keyed
    /// by the layers' names.
    /// Files that cannot be decoded are recorded in `skipped`, never fatal. `onImage(done, total)` is called
    /// after each image, skipped or not.
    public static func run(network: Network, layers: [LayerRef], images: [URL], settings: PatchSearchSettings,
                           filters: [String: [Int]]? = nil, onImage: (Int, Int) -> Void = { _, _ in }) throws -> PatchSearchResult {
        let plan = try SearchPlan(network: network, layers: layers, settings: settings, filters: filters)
        var seen = Set<String>()
        let images = images.filter { seen.insert($0.path).inserted }   // a file listed twice is searched once
        let paths = images.map(\.path)
        let order = CandidateOrder(paths: paths)
        var lists = plan.targets.map { target in target.filters.map { _ in BoundedTopList(capacity: settings.top) } }
        var sizes = [Int: (width: Int, height: Int)]()   // image -> original size, for the geometry at the end
        var hashes = [Int: String]()
        var skipped: [SkippedFile] = []

        var start = 0
        while start < images.count {
            let chunk = Array(start..<min(start + chunkSize, images.count))
            let prepared = prepare(chunk.map { images[$0] }, indices: chunk, views: settings.views)
            var usable: [PreparedImage] = []
            for item in prepared {
                switch item {
                case let .ready(image): usable.append(image)
                case let .skipped(skip): skipped.append(skip)
                }
            }
            for image in usable {
                sizes[image.index] = (image.originalWidth, image.originalHeight)
                hashes[image.index] = image.sha256
            }
            let maps = forward(usable, network: network, taps: plan.taps)
            collect(maps, into: &lists, plan: plan, perImage: settings.candidatesPerImage, order: order)
            for i in chunk { onImage(i + 1, images.count) }
            start += chunkSize
        }

        var result: [String: [[Patch]]] = [:]
        for (t, target) in plan.targets.enumerated() {
            var perFilter = [[Patch]](repeating: [], count: target.channels)
            for (f, filter) in target.filters.enumerated() {
                perFilter[filter] = lists[t][f].items.map { c in
                    let size = sizes[c.image]!
                    let geometry = ViewGeometry(originalWidth: size.width, originalHeight: size.height, scale: c.scale)
                    return Patch(activation: c.activation, imagePath: paths[c.image], imageSHA256: hashes[c.image]!,
                                 scale: c.scale, row: c.row, column: c.column,
                                 rect: geometry.originalRect(target.field.rectangle(row: c.row, column: c.column)))
                }
            }
            result[target.name] = perFilter
        }
        return PatchSearchResult(model: network.name, settings: settings, layers: result,
                                 skipped: skipped.sorted { $0.path < $1.path }, imageCount: images.count - skipped.count)
    }

    /// Merges results of disjoint image sets exactly as if run together (same tie-breaking).
    ///
    /// Exact because each part kept, per filter, the best `top` of its own images under the same per-image
    /// limit: the best `top` of the union are among them. Throws if the parts differ in model, settings,
    /// layers or filter counts, or share an image.
    public static func merge(_ parts: [PatchSearchResult]) throws -> PatchSearchResult {
        guard let first = parts.first else { throw PatchSearchError.cannotMerge("no results to merge") }
        for part in parts.dropFirst() {
            guard part.model == first.model else { throw PatchSearchError.cannotMerge("models differ: \(first.model) and \(part.model)") }
            guard part.settings == first.settings else {
                throw PatchSearchError.cannotMerge("settings differ: \(first.settings) and \(part.settings)")
            }
            guard Set(part.layers.keys) == Set(first.layers.keys) else {
                throw PatchSearchError.cannotMerge("layers differ: \(first.layers.keys.sorted()) and \(part.layers.keys.sorted())")
            }
            for (layer, filters) in part.layers where filters.count != first.layers[layer]!.count {
                throw PatchSearchError.cannotMerge("\(layer) has \(first.layers[layer]!.count) filters in one part, \(filters.count) in another")
            }
        }
        var owner: [String: Int] = [:]   // image path -> the part it came from
        for (p, part) in parts.enumerated() {
            let paths = Set(part.layers.values.flatMap { $0.flatMap { $0.map(\.imagePath) } } + part.skipped.map(\.path))
            for path in paths {
                if let other = owner[path], other != p {
                    throw PatchSearchError.cannotMerge("\(path) is in parts \(other) and \(p); merge disjoint image sets only")
                }
                owner[path] = p
            }
        }
        let settings = first.settings
        var layers: [String: [[Patch]]] = [:]
        for (layer, filters) in first.layers {
            layers[layer] = (0..<filters.count).map { f in
                let pooled = parts.flatMap { $0.layers[layer]![f] }.sorted(by: Patch.ranksBefore)
                var perImage: [String: Int] = [:]
                var kept: [Patch] = []
                for patch in pooled where kept.count < settings.top {
                    let n = perImage[patch.imagePath, default: 0]
                    if settings.perImage > 0 && n >= settings.perImage { continue }
                    perImage[patch.imagePath] = n + 1
                    kept.append(patch)
                }
                return kept
            }
        }
        return PatchSearchResult(model: first.model, settings: settings, layers: layers,
                                 skipped: parts.flatMap(\.skipped).sorted { $0.path < $1.path },
                                 imageCount: parts.reduce(0) { $0 + $1.imageCount })
    }

    // MARK: Steps

    /// An image ready for the network: its network inputs, one per scale, and what the patches need later.
    struct PreparedImage {
        let index: Int
        let sha256: String
        let originalWidth: Int, originalHeight: Int
        let views: [(scale: Int, geometry: ViewGeometry, input: Image)]
    }

    enum PreparationOutcome {
        case ready(PreparedImage)
        case skipped(SkippedFile)
    }

    /// Reads, hashes, decodes and preprocesses images in parallel (one image per worker), in input order.
    static func prepare(_ urls: [URL], indices: [Int], views: [Int]) -> [PreparationOutcome] {
        var out = [PreparationOutcome?](repeating: nil, count: urls.count)
        out.withUnsafeMutableBufferPointer { slots in
            let slots = slots   // each worker writes only its own image's slot
            Parallel.forEach(urls.count) { i in
                do {
                    let (image, sha) = try decodeForSearch(urls[i])
                    let prepared = try views.map { scale -> (Int, ViewGeometry, Image) in
                        let geometry = ViewGeometry(originalWidth: image.width, originalHeight: image.height, scale: scale)
                        // A sliver (say 1 x 5000) would resize to a gigapixel strip before the crop: refuse it.
                        guard geometry.resizedWidth * geometry.resizedHeight <= maxResizedPixels else {
                            throw PatchSearchError.extremeAspectRatio(path: urls[i].path, width: image.width, height: image.height)
                        }
                        return (scale, geometry, geometry.input(from: image))
                    }
                    slots[i] = .ready(PreparedImage(index: indices[i], sha256: sha, originalWidth: image.width,
                                                      originalHeight: image.height, views: prepared))
                } catch {
                    slots[i] = .skipped(SkippedFile(path: urls[i].path, reason: "\(error)"))
                }
            }
        }
        return out.map { $0! }
    }

    /// The file's RGB pixels as the search sees them (EXIF orientation applied, alpha over white, gray to RGB)
    /// and the sha256 of its bytes.
    static func decodeForSearch(_ url: URL) throws -> (Image, String) {
        let data: [UInt8]
        do { data = try FileReading.bytes(of: url, limit: FileReading.imageLimit) } catch let error as FileReadError {
            throw ImageError(file: url.path, kind: .unreadable, reason: error.reason)
        }
        let decoded = try Image.decode(data, name: url.path, options: DecodeOptions(alpha: .composite(over: .white)))
        return (decoded.image.rgb(), SHA256.hex(of: Data(data)))
    }

    /// One view's tapped maps: which image and scale, and per tapped module the (C, H, W) maps at an offset
    /// into the batch's storage.
    struct ViewMaps {
        let image: Int
        let scale: Int
        let batchIndex: Int
        let outputs: [NodeID: Tensor]
    }

    /// Forwards every view of the chunk once, batching views of equal size (ordered by first appearance).
    static func forward(_ images: [PreparedImage], network: Network, taps: Set<NodeID>) -> [ViewMaps] {
        var groups: [(width: Int, height: Int, members: [(image: Int, scale: Int, input: Image)])] = []
        for image in images {
            for view in image.views {
                let (w, h) = (view.input.width, view.input.height)
                if let g = groups.firstIndex(where: { $0.width == w && $0.height == h }) {
                    groups[g].members.append((image.index, view.scale, view.input))
                } else {
                    groups.append((w, h, [(image.index, view.scale, view.input)]))
                }
            }
        }
        var maps: [ViewMaps] = []
        for group in groups {
            // Large scales forward fewer images at once, so the first layers' maps stay within the budget.
            let perBatch = max(1, maxBatchPixels / (group.width * group.height))
            for start in stride(from: 0, to: group.members.count, by: perBatch) {
                let members = group.members[start..<min(start + perBatch, group.members.count)]
                let batch = Image.tensor(members.map(\.input), .unit)
                let outputs = GradMode.withoutGrad { network.forward(batch, taps: taps) }
                for (b, member) in members.enumerated() {
                    maps.append(ViewMaps(image: member.image, scale: member.scale, batchIndex: b, outputs: outputs))
                }
            }
        }
        // Per image, views by ascending scale (the tie-break order); images in input order.
        return maps.sorted { ($0.image, $0.scale) < ($1.image, $1.scale) }
    }

    /// Offers each image's best `perImage` positions per filter to that filter's list; filters split over
    /// workers (each list owned by one worker).
    static func collect(_ maps: [ViewMaps], into lists: inout [[BoundedTopList]], plan: SearchPlan, perImage: Int,
                        order: CandidateOrder) {
        // Views grouped by image, in image order.
        var byImage: [[ViewMaps]] = []
        for view in maps {
            if let last = byImage.last?.first, last.image == view.image { byImage[byImage.count - 1].append(view) }
            else { byImage.append([view]) }
        }
        for (t, target) in plan.targets.enumerated() {
            lists[t].withUnsafeMutableBufferPointer { slots in
                let slots = slots
                Parallel.forEach(target.filters.count) { f in
                    let channel = target.filters[f]
                    for views in byImage {
                        var local = BoundedTopList(capacity: perImage)
                        for view in views {
                            let map = view.outputs[target.layer.node]!
                            let (c, h, w) = (map.shape[1], map.shape[2], map.shape[3])
                            let base = (view.batchIndex * c + channel) * h * w
                            map.storage.withUnsafeBufferPointer { values in
                                for row in 0..<h {
                                    for column in 0..<w {
                                        let v = values[base + row * w + column]
                                        guard !v.isNaN, local.mightAccept(v) else { continue }
                                        local.insert(Candidate(activation: v, image: view.image, scale: view.scale,
                                                               row: row, column: column), order: order)
                                    }
                                }
                            }
                        }
                        for candidate in local.items where slots[f].mightAccept(candidate.activation) {
                            slots[f].insert(candidate, order: order)
                        }
                    }
                }
            }
        }
    }
}

/// The checked request: which layers to tap, their receptive fields, and the filters of each.
struct SearchPlan {
    struct Target {
        let layer: LayerRef
        var name: String { layer.name }
        var channels: Int { layer.channels }
        let filters: [Int]
        let field: ReceptiveField
    }
    let targets: [Target]
    var taps: Set<NodeID> { Set(targets.map(\.layer.node)) }

    init(network: Network, layers: [LayerRef], settings: PatchSearchSettings, filters: [String: [Int]]?) throws {
        try settings.validate()
        guard !layers.isEmpty else { throw PatchSearchError.badSetting("no layers given") }
        var targets: [Target] = []
        for layer in layers where !targets.contains(where: { $0.name == layer.name }) {
            let name = layer.name
            guard layer.followsInputSize else { throw PatchSearchError.notSpatial(layer: name, model: network.name) }
            let chosen = filters?[name] ?? Array(0..<layer.channels)
            if let bad = chosen.first(where: { $0 < 0 || $0 >= layer.channels }) {
                throw ModelError.filterOutOfRange(String(bad), layer: name, channels: layer.channels)
            }
            // The whole photo at each scale: its shorter side must reach the layer, and a square of it fit the budget.
            for scale in settings.scales {
                try network.checkInputSize(SizeSetting(name: "--scales", value: scale, range: 16...4096), layer: layer)
            }
            targets.append(Target(layer: layer, filters: Array(Set(chosen)).sorted(), field: network.receptiveField(of: layer)))
        }
        if let filters, let unknown = filters.keys.first(where: { name in !layers.contains { $0.name == name } }) {
            throw PatchSearchError.badSetting("filters given for \(unknown), which is not among the layers \(layers.map(\.name))")
        }
        self.targets = targets
    }
}
