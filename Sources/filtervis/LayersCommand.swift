import ArgumentParser
import Foundation
import Models

/// `filtervis layers`: every layer of a model, with the names it answers to, what it computes, its output shape,
/// and its receptive field: what a user needs to pick `--layer`.
struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "List a model's layers: names, what each computes, output shape and receptive field.",
        discussion: """
        One line per node in execution order: the preferred name (any of the aliases works as --layer elsewhere), \
        the torchvision module path, the operation, the output shape for a --size x --size input (C x H x W, or \
        the feature count of a vector; "too small" when the input cannot reach the layer), and the receptive \
        field of one output unit (side and stride in input pixels). Needs no weights.

        Example:
          filtervis layers --model alexnet --size 227
        """)

    @Option(help: "Model: \(ModelCatalog.all.map(\.name).joined(separator: ", ")), or an ONNX file (.onnx).")
    var model = "vgg16"

    @Option(parsing: .unconditional, help: "Square input side in pixels for the output shapes (1 to 65536).")
    var size = 224

    func validate() throws {
        try ModelOptions.validateModel(model)
        if size < 1 || size > 65536 { throw ValidationError("--size must be from 1 to 65536 pixels, got \(size)") }
    }

    func run() throws {
        try runReportingErrors {
            // An ONNX file's graph comes with its weights (the import reads both).
            let architecture = ModelOptions.isONNX(model) ? try WeightsFetcher.loadNetwork(model: model, weights: nil).architecture
                : try ModelCatalog.spec(named: model).architecture
            let rows = architecture.table(side: size).map { row -> [String] in
                let shape = row.shape.map { $0.map(String.init).joined(separator: " x ") } ?? "too small"
                let field = row.receptiveField.map { "\($0.size) px / \($0.jump)" } ?? "-"
                let aliases = row.layer.aliases.dropFirst().filter { $0 != row.layer.path }
                return [row.layer.preferredName, row.layer.path, row.op, shape, field, aliases.joined(separator: ", ")]
            }
            let header = ["layer", "module", "op", "output at \(size) px", "receptive field", "also"]
            let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces)
            }
            print(line(header))
            for row in rows { print(line(row)) }
        }
    }
}
