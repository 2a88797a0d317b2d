import ArgumentParser
import Checkpoints
import Foundation
import ImageIO
import Models
import TensorCore

/// `filtervis forward`: a layer's activations for photos, as per-channel statistics or saved tensors.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run photos through a model to a layer: per-channel statistics, or the activations themselves.",
        discussion: """
        Each photo is resized (shorter side to --resize, default 256) and
        centre-cropped to --crop (default 224), torchvision's evaluation policy,
        then run to --layer only: nothing beyond it is computed.

        Without --save, prints per channel the max, the mean and the argmax
        position (row, column), for each photo. With --save OUT.safetensors,
        writes the activations (one tensor per photo, named by file) with the
        model, layer and preprocessing in the file's metadata.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Layer to stop at (see README: conv3_1 is before its ReLU, relu3_1 after).")
    var layer: String

    @Option(name: .customLong("image"), parsing: .upToNextOption, help: "Photo(s), JPEG or PNG.")
    var images: [String]

    @Option(parsing: .unconditional, help: "Resize the shorter side to this many pixels first (at most \(ForwardCommand.largestResize)).")
    var resize = 256

    @Option(parsing: .unconditional, help: "Centre crop size; the smallest that works depends on --layer (AlexNet conv1: 7).")
    var crop = 224

    @Option(help: "Write the activations to this .safetensors file instead of printing statistics.")
    var save: String?

    @Option(parsing: .unconditional, help: "Worker threads (default: all cores).")
    var threads: Int?

    /// The shorter side a photo may be resized to: a larger one is a multi-gigabyte image before the crop.
    static let largestResize = 16384
    /// The resized photo's pixels at most (a sliver photo resized by its shorter side could be huge).
    static let largestResizedPixels = 64 << 20

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one --image") }
        if crop < 1 || resize < crop { throw ValidationError("need 1 <= --crop <= --resize (got crop \(crop), resize \(resize))") }
        if resize > Self.largestResize { throw ValidationError("--resize \(resize) is more than \(Self.largestResize); use a smaller size") }
        if let threads, threads < 1 || threads > 1024 { throw ValidationError("--threads must be from 1 to 1024, got \(threads)") }
    }

    func run() throws {
        try runReportingErrors(threads: threads) {
            let network = try modelOptions.loadNetwork()
            let target = try network.layer(layer)
            // The network sees crop x crop: it must reach the layer and fit the memory budget.
            try network.checkInputSize(SizeSetting(name: "--crop", value: crop), layer: target)
            var saved: [CheckpointTensor] = []
            for path in images {
                let input = try Self.evaluationInput(path, resize: resize, crop: crop)
                let act = GradMode.withoutGrad { network.forward(input, to: target) }
                if save != nil {
                    saved.append(try CheckpointTensor(name: URL(fileURLWithPath: path).lastPathComponent,
                                                      shape: act.shape, floats: act.storage))
                } else {
                    printStatistics(act, photo: path, layer: target.preferredName)
                }
            }
            if let save {
                let metadata = ["model": modelOptions.model, "layer": layer, "preprocessing": network.preprocessing.rawValue,
                                "input": "resize shorter side \(resize), centre crop \(crop), RGB /255"]
                try SafeTensors.write(try Checkpoint(format: .safetensors, tensors: saved, metadata: metadata), to: save)
                log("forward: wrote \(saved.count) activation tensor(s) to \(save)")
            }
        }
    }

    /// A photo as torchvision's evaluation policy shows it to a network: the shorter side resized to `resize`,
    /// centre-cropped to `crop`, RGB in [0, 1], (1, 3, crop, crop). Refuses a resize that would be huge.
    static func evaluationInput(_ path: String, resize: Int, crop: Int) throws -> Tensor {
        let image = try Image(contentsOf: URL(fileURLWithPath: path)).rgb()
        let shorter = max(1, min(image.width, image.height))
        let resizedPixels = Double(resize) * Double(resize) * Double(max(image.width, image.height)) / Double(shorter)
        guard resizedPixels <= Double(largestResizedPixels) else {
            throw ImageError.tooLarge(file: path, reason: "a \(image.width) x \(image.height) photo resized to a shorter side of "
                + "\(resize) would have more than \(largestResizedPixels >> 20) Mi pixels; use a smaller --resize or crop the photo")
        }
        return image.resizeShorterSide(to: resize).centerCrop(width: crop, height: crop).tensor(.unit)
    }

    func printStatistics(_ act: Tensor, photo: String, layer: String) {
        print("# \(photo): \(layer) \(act.shape.dropFirst().map(String.init).joined(separator: "x"))")
        guard act.rank == 4 else {
            print("unit\tvalue")
            for (i, v) in act.storage.enumerated() { print("\(i)\t\(v)") }
            return
        }
        print("channel\tmax\tmean\targmax_row\targmax_col")
        let (c, h, w) = (act.shape[1], act.shape[2], act.shape[3])
        for ch in 0..<c {
            let plane = act.storage[(ch * h * w)..<((ch + 1) * h * w)]
            var best = -Float.infinity, at = 0, total = 0.0
            for (i, v) in zip(0..., plane) {
                total += Double(v)
                if v > best { best = v; at = i }
            }
            print(String(format: "%d\t%.6g\t%.6g\t%d\t%d", ch, best, total / Double(h * w), at / w, at % w))
        }
    }
}
