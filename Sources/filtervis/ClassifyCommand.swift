import ArgumentParser
import Foundation
import Models
import TensorCore

/// `filtervis classify`: a classifier's top classes for photos, with the ImageNet class names.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Print a classifier's top classes for photos, with names and probabilities.",
        discussion: """
        Each photo is resized (shorter side to --resize, default the model's side + 32) and centre-cropped to \
        --crop (default the model's native side: 224 for efficientnet-lite0, 240 for lite1, 260 for lite2), then \
        run to the model's softmax. Prints, per photo, the --top classes: rank, class index, probability, logit \
        and the class name (ImageNet, from Debian's opencv-doc; fetched by `make photos`).

        Examples:
          filtervis classify --model efficientnet-lite0 --image ~/.cache/filtervis/photos/chelsea.png
          filtervis classify --model efficientnet-lite2 --image a.jpg --image b.png --top 3
        """)

    @Option(help: "A classifier: efficientnet-lite0, efficientnet-lite1, efficientnet-lite2 (or a model whose weights include its classifier).")
    var model = "efficientnet-lite0"

    @Option(help: "Weights file to use instead of the cached one.")
    var weights: String?

    @Option(name: .customLong("image"), parsing: .upToNextOption, help: "Photo(s), JPEG or PNG.")
    var images: [String]

    @Option(parsing: .unconditional, help: "Classes to print per photo (1 to 1000).")
    var top = 5

    @Option(parsing: .unconditional, help: "Resize the shorter side to this many pixels first (default: the model's side + 32).")
    var resize: Int?

    @Option(parsing: .unconditional, help: "Centre crop size (default: the model's native side).")
    var crop: Int?

    @OptionGroup var threading: ThreadsOption

    func validate() throws {
        try ModelOptions.validateModel(model)
        if images.isEmpty { throw ValidationError("give at least one --image") }
        if top < 1 || top > 1000 { throw ValidationError("--top must be from 1 to 1000, got \(top)") }
        if let crop, crop < 1 { throw ValidationError("--crop must be at least 1, got \(crop)") }
        if let resize, resize < (crop ?? 1) || resize > ForwardCommand.largestResize {
            throw ValidationError("--resize must be from --crop to \(ForwardCommand.largestResize), got \(resize)")
        }
    }

    func run() throws {
        try runReportingErrors(threads: threading.threads) {
            let native = ModelOptions.isONNX(model) ? 224 : try ModelCatalog.spec(named: model).nativeSide
            let crop = self.crop ?? native
            let resize = self.resize ?? max(crop, native + 32)
            let network = try WeightsFetcher.loadNetwork(model: model, weights: weights)
            let logits = try network.layer("logits")
            try network.checkInputSize(SizeSetting(name: "--crop", value: crop), layer: logits)
            let labels = try ImageNetLabels.load()
            guard logits.channels == labels.names.count else {
                throw CLIError("\(model) has \(logits.channels) classes, not the \(labels.names.count) ImageNet classes the names are for")
            }
            for path in images {
                let input = try ForwardCommand.evaluationInput(path, resize: resize, crop: crop)
                let scores = GradMode.withoutGrad { network.forward(input, to: logits) }.storage
                let probabilities = Self.softmax(scores)
                print("# \(path): \(model), \(crop) px")
                print("rank\tclass\tprobability\tlogit\tname")
                let ranked = probabilities.indices.sorted { (probabilities[$0], $1) > (probabilities[$1], $0) }
                for (rank, index) in ranked.prefix(top).enumerated() {
                    print(String(format: "%d\t%d\t%.6f\t%.4f\t", rank + 1, index, probabilities[index], scores[index]) + labels.names[index])
                }
            }
        }
    }

    /// Softmax in Double (the printed probabilities must not depend on float rounding of the sum).
    static func softmax(_ logits: [Float]) -> [Double] {
        let top = Double(logits.max() ?? 0)
        let exps = logits.map { Foundation.exp(Double($0) - top) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }
}
