import Foundation

/// The models filtervis knows by name, with where their weights live and which input convention they use.
public struct ModelSpec: Sendable {
    /// The name users type: "vgg16", "vgg16-tv", "alexnet".
    public let name: String
    public let architecture: Architecture
    public let preprocessing: Preprocessing
    /// One line on where the weights come from.
    public let summary: String
    /// The weights file inside the cache's weights folder (an imported safetensors, or the fetched file itself).
    public let weightsFileName: String
    /// The input side the network was trained at (what `classify` resizes to).
    public let nativeSide: Int

    init(name: String, architecture: Architecture, preprocessing: Preprocessing, summary: String,
         weightsFileName: String? = nil, nativeSide: Int = 224) {
        self.name = name
        self.architecture = architecture
        self.preprocessing = preprocessing
        self.summary = summary
        self.weightsFileName = weightsFileName ?? "\(name).safetensors"
        self.nativeSide = nativeSide
    }
}

/// The catalogue of named models and the cache folder they load from.
public enum ModelCatalog {
    public static let all: [ModelSpec] = [
        ModelSpec(name: "vgg16", architecture: .vgg16, preprocessing: .caffe,
                  summary: "VGG16, Oxford/Keras ImageNet weights (the lecture's network; conv layers only), Caffe BGR input"),
        ModelSpec(name: "vgg16-tv", architecture: .vgg16, preprocessing: .torchvision,
                  summary: "VGG16, torchvision ImageNet weights (conv layers only), torchvision RGB input"),
        ModelSpec(name: "alexnet", architecture: .alexnet, preprocessing: .torchvision,
                  summary: "AlexNet (torchvision, 64-192-384-256-256), ImageNet weights (conv layers only)"),
        ModelSpec(name: "efficientnet-lite0", architecture: .efficientNetLite0, preprocessing: .efficientNetLite,
                  summary: "EfficientNet-Lite0, a complete ImageNet classifier (4.7 M parameters), 224 px",
                  weightsFileName: "src/efficientnet-lite0-57934424.pth", nativeSide: 224),
        ModelSpec(name: "efficientnet-lite1", architecture: .efficientNetLite1, preprocessing: .efficientNetLite,
                  summary: "EfficientNet-Lite1, a complete ImageNet classifier (5.4 M parameters), 240 px",
                  weightsFileName: "src/efficientnet-lite1-77cc7160.pth", nativeSide: 240),
        ModelSpec(name: "efficientnet-lite2", architecture: .efficientNetLite2, preprocessing: .efficientNetLite,
                  summary: "EfficientNet-Lite2, a complete ImageNet classifier (6.1 M parameters), 260 px",
                  weightsFileName: "src/efficientnet-lite2-9656183e.pth", nativeSide: 260),
    ]

    /// The spec called `name`, or an error listing the known ones.
    public static func spec(named name: String) throws -> ModelSpec {
        guard let spec = all.first(where: { $0.name == name }) else {
            throw ModelError.unknownModel(name, known: all.map(\.name))
        }
        return spec
    }

    /// The cache folder: $FILTERVIS_CACHE, else ~/.cache/filtervis.
    public static var cacheDirectory: URL {
        if let custom = ProcessInfo.processInfo.environment["FILTERVIS_CACHE"], !custom.isEmpty {
            return URL(fileURLWithPath: custom, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/filtervis", isDirectory: true)
    }

    /// Where the imported weights of `spec` are expected.
    public static func weightsURL(for spec: ModelSpec) -> URL {
        cacheDirectory.appendingPathComponent("weights", isDirectory: true).appendingPathComponent(spec.weightsFileName)
    }
}

/// Parses filter selections: "0-63", "all", "3,7,9", "0-7,32,40-41".
public enum FilterSelection {
    /// The sorted, de-duplicated filter indices of `spec` for a layer with `channels` filters.
    public static func parse(_ spec: String, channels: Int, layer: String) throws -> [Int] {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if trimmed == "all" { return Array(0..<channels) }
        guard !trimmed.isEmpty else { throw ModelError.badFilterList(spec, reason: "it is empty") }
        var result = Set<Int>()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let piece = part.trimmingCharacters(in: .whitespaces)
            let bounds = piece.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]), let hi = Int(bounds.last!) else {
                throw ModelError.badFilterList(spec, reason: "'\(piece)' is not a number or a range a-b")
            }
            guard lo <= hi else { throw ModelError.badFilterList(spec, reason: "the range \(piece) runs backwards") }
            guard lo >= 0, hi < channels else { throw ModelError.filterOutOfRange(piece, layer: layer, channels: channels) }
            result.formUnion(lo...hi)
        }
        return result.sorted()
    }
}
