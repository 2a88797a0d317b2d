import Foundation
import ImageIO
import Models
import TensorCore

/// A layer's channel maps for one photo, each normalised to its own range, laid out as a labelled grid.
public enum FeatureMaps {
    /// The photo as the network sees it: shorter side resized to `size`, centre-cropped to a square.
    public static func input(photo: URL, size: Int) throws -> Image {
        try Image(contentsOf: photo).rgb().resizeShorterSide(to: size).centerCrop(width: size, height: size)
    }

    /// Refuses a `size` too small to reach `layer` or too large for the memory budget (`setting` names it).
    public static func checkSize(network: Network, layer: LayerRef, size: Int, setting: String) throws {
        let architecture = network.architecture
        guard !architecture.ancestors(of: [layer.node.index]).contains(where: { isFlat(architecture.layers[$0].kind) }) else {
            throw VisualizationError.badSetting("feature maps: \(layer) is not a spatial layer (pick a conv, relu or pool layer)")
        }
        try network.checkInputSize(SizeSetting(name: setting, value: size, range: 16...Architecture.largestSide), layer: layer)
    }

    /// The layer's output (1, C, H, W) for `input`.
    public static func activations(network: Network, layer: LayerRef, input: Image) throws -> Tensor {
        try checkSize(network: network, layer: layer, size: min(input.width, input.height), setting: "the input size")
        return GradMode.withoutGrad { network.forward(input.tensor(.unit), to: layer) }
    }

    static func isFlat(_ kind: LayerKind) -> Bool {
        switch kind {
        case .flatten, .linear, .softmax: return true
        default: return false
        }
    }

    /// One gray tile per channel of `activations` (1, C, H, W): the map's own minimum is black and maximum white
    /// (a constant map is black), resized to `tile` pixels square with a box filter (nearest-like when enlarging).
    public static func tiles(_ activations: Tensor, tile: Int) -> [Image] {
        let (c, h, w) = (activations.shape[1], activations.shape[2], activations.shape[3])
        return (0..<c).map { channel in
            let plane = activations.storage[(channel * h * w)..<((channel + 1) * h * w)]
            let lo = plane.min() ?? 0, hi = plane.max() ?? 0
            let scale: Float = hi > lo ? 255 / (hi - lo) : 0
            let pixels = plane.map { UInt8(min(max((($0 - lo) * scale).rounded(), 0), 255)) }
            let image = Image(width: w, height: h, channels: 1, pixels: pixels)
            return w == tile && h == tile ? image : image.resized(width: tile, height: tile, filter: .box)
        }
    }

    /// The labelled grid of every channel map (labels are channel indices).
    public static func grid(_ activations: Tensor, tile: Int) throws -> Image {
        let tiles = tiles(activations, tile: tile)
        let columns = Int(Double(tiles.count).squareRoot().rounded(.up))
        return try Image.grid(tiles, labels: tiles.indices.map(String.init), layout: GridLayout(columns: columns, margin: 3))
    }
}
