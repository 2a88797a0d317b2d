import ImageIO
import Models

/// The command-line value parsers that take free text: `--filters` selections against a layer's channel count,
/// layer names against every model's table, and WxH sizes.
enum ArgumentTarget {
    static let target = FuzzTarget(name: "args", errorModules: ["Models", "ImageIO"]) { input, violation in
        // Recipe: two bytes of channel count (1...4096, as real layers have), the rest is the argument text.
        guard input.count >= 2 else { return }
        let channels = 1 + (Int(input[0]) << 8 | Int(input[1])) % 4096
        let text = String(decoding: input.dropFirst(2), as: UTF8.self)

        for spec in ModelCatalog.all {
            if let index = spec.architecture.names.indexByName[text], !spec.architecture.layers.indices.contains(index) {
                throw violation("layer name '\(text)' of \(spec.name) maps to module \(index) of \(spec.architecture.layers.count)")
            }
        }
        if let size = PixelSize(argument: text) {
            guard (1...65_535).contains(size.width), (1...65_535).contains(size.height) else {
                throw violation("'\(text)' parsed as the size \(size.width)x\(size.height)")
            }
        }
        let filters = try FilterSelection.parse(text, channels: channels, layer: "fuzz")
        guard !filters.isEmpty, filters == Array(Set(filters)).sorted(), filters.allSatisfy({ (0..<channels).contains($0) }) else {
            throw violation("'\(text)' for \(channels) channels selected \(filters.prefix(8))...")
        }
    }
}
