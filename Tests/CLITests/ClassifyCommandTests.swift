import Foundation
import Testing

/// `filtervis classify` and class visualisation on EfficientNet-Lite0 with the real weights.
@Suite(.serialized) struct ClassifyCommandTests {
    /// Rows of classify's output for one photo: (class, probability).
    static func ranking(_ stdout: String) -> [(index: Int, probability: Double)] {
        stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("rank") }.compactMap { line in
            let cells = line.split(separator: "\t")
            guard cells.count >= 5, let index = Int(cells[1]), let probability = Double(cells[2]) else { return nil }
            return (index, probability)
        }
    }

    @Test func photosGetTheirClassesWithNames() throws {
        let photo = try RealWeights.file("photos/coffee.png")
        guard let result = try CLI.run(["classify", "--image", photo.path, "--top", "3"]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        let rows = Self.ranking(result.stdout)
        #expect(rows.count == 3)
        #expect(rows.first?.index == 967 && result.stdout.contains("espresso"), "\(result.stdout)")   // PyTorch: 967 espresso
        #expect(rows.map(\.probability) == rows.map(\.probability).sorted(by: >))
    }

    /// The issue's test: for 10 classes, the final image (at the optimisation size, no transforms) is classified
    /// by the same network as its class with probability >= 0.9. Class logits take longer than filters: at the
    /// default preset's 96 steps ladybug is still classified as an ant (p = 0.93; ladybug 0.04); 192 steps give >= 0.9 for all ten.
    @Test func classPicturesAreClassifiedAsTheirClass() throws {
        let classes = ["goldfish": 1, "great white shark": 2, "tabby": 281, "ladybug": 301, "pizza": 963,
                       "lemon": 951, "broccoli": 937, "volcano": 980, "daisy": 985, "espresso": 967]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-classes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let names = classes.keys.sorted().joined(separator: ",")
        guard let result = try CLI.run(["visualize", "--model", "efficientnet-lite0", "--objective", "class:\(names)",
                                        "--steps", "192", "--no-photo-baseline", "--out", out.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        for (name, index) in classes.sorted(by: { $0.value < $1.value }) {
            let png = out.appendingPathComponent(String(format: "filter_%04d.png", index))
            guard let classified = try CLI.run(["classify", "--image", png.path, "--resize", "128", "--crop", "128", "--top", "1"]) else { return }
            let top = try #require(Self.ranking(classified.stdout).first, "\(classified.stderr)")
            #expect(top.index == index && top.probability >= 0.9, "\(name) (\(index)): classified as \(top.index) with p = \(top.probability)")
        }
    }

    @Test func unknownClassesAndObjectivesAreClearErrors() throws {
        guard let unknown = try CLI.run(["visualize", "--model", "efficientnet-lite0", "--objective", "class:flying teapot",
                                         "--out", "/tmp/filtervis-never"]) else { return }
        #expect(unknown.status == 1 && unknown.stderr.contains("flying teapot"), "\(unknown.stderr)")
        guard let bad = try CLI.run(["visualize", "--objective", "neuron", "--out", "/tmp/filtervis-never"]) else { return }
        #expect(bad.status == 2 && bad.stderr.contains("--objective"), "\(bad.stderr)")
        guard let noLayer = try CLI.run(["visualize", "--out", "/tmp/filtervis-never"]) else { return }
        #expect(noLayer.status == 2 && noLayer.stderr.contains("--layer"), "\(noLayer.stderr)")
    }
}
