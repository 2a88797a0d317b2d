import ArgumentParser
import Experiments
import FileOutput
import Foundation
import Models
import Visualization

/// `filtervis featuremaps`: a labelled grid of a layer's channel maps for one photo.
struct FeatureMapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "featuremaps",
        abstract: "Show every channel map of a layer for one photo, as a labelled grid.",
        discussion: """
        The photo's shorter side is resized to --size and centre-cropped to a square, then run through the
        network to --layer. Each channel map is scaled to its own range (black = its minimum, white = its
        maximum) and drawn --tile pixels square, labelled by channel index. Writes DIR/LAYER.png and DIR/input.png;
        DIR is replaced as a whole when the run succeeds (an earlier run's LAYER.png of another layer goes), and
        refused if it holds anything but an earlier featuremaps run.

        Example:
          filtervis featuremaps --layer block3_conv3 --image ~/.cache/filtervis/photos/Dune.jpg --out /tmp/maps
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Layer: block1_conv2, relu3_3, conv5 (AlexNet), pool2, ...")
    var layer: String

    @Option(help: "The photo (JPEG or PNG).")
    var image: String

    @Option(parsing: .unconditional, help: "Input size in pixels (square crop); the smallest that works depends on --layer.")
    var size = 224

    @Option(parsing: .unconditional, help: "Pixels per channel tile (8 to 512).")
    var tile = 96

    @Option(help: "Output folder, replaced as a whole when the run succeeds (a failed run leaves it as it was). Refused if it holds files `featuremaps` did not write.")
    var out: String

    /// The files a run writes: input.png and LAYER.png (anything else in --out is refused).
    static let layout = OutputLayout(command: "featuremaps", files: "input.png, LAYER.png",
                                     owns: { path, isDirectory in path.count == 1 && !isDirectory && path[0].hasSuffix(".png") },
                                     required: ["input.png"])

    func validate() throws {
        if size < 16 { throw ValidationError("--size must be at least 16, got \(size)") }
        if tile < 8 || tile > 512 { throw ValidationError("--tile must be from 8 to 512 pixels, got \(tile)") }
    }

    func run() throws {
        try runReportingErrors {
            let dir = URL(fileURLWithPath: out, isDirectory: true)
            let network = try modelOptions.loadNetwork()
            let target = try network.layer(layer)
            try FeatureMaps.checkSize(network: network, layer: target, size: size, setting: "--size")
            try OutputFolder.prepare(dir, for: Self.layout)
            let input = try FeatureMaps.input(photo: URL(fileURLWithPath: image), size: size)
            let activations = try FeatureMaps.activations(network: network, layer: target, input: input)
            let grid = try FeatureMaps.grid(activations, tile: tile)
            try OutputFolder.replace(dir, for: Self.layout) { staging in
                try staging.write(input, to: "input.png")
                try staging.write(grid, to: "\(layer).png")
            }
            log("featuremaps: \(activations.shape[1]) channel map(s) of \(layer) (\(activations.shape[2]) x \(activations.shape[3])) -> \(dir.path)/\(layer).png")
        }
    }
}
