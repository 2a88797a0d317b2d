import Testing
@testable import Models
import TensorCore

/// The computed receptive field agrees with autograd: a unit's input gradient is non-zero only inside its rectangle.
@Suite struct ReceptiveFieldGradientTests {
    /// A network of the given architecture with seeded random weights (geometry does not depend on the values).
    static func randomNetwork(_ architecture: Architecture, name: String) throws -> Network {
        var rng = SeededGenerator(seed: 42)
        var parameters: [String: Tensor] = [:]
        // Chains: the conv part only (no classifier weights); graphs: every key, batch norms with positive variances.
        let chain = architecture.classifierStart < architecture.layers.count
        for (key, shape) in architecture.parameterShapes where !chain || key.hasPrefix("features.") {
            let fanIn = shape.dropFirst().reduce(1, *)
            if key.hasSuffix("running_var") || (key.hasSuffix(".weight") && shape.count == 1) {
                parameters[key] = Tensor.randomUniform(shape: shape, in: 0.5..<1.5, using: &rng)
            } else {
                parameters[key] = Tensor.randomNormal(shape: shape, std: shape.count == 1 ? 0.01 : (2 / Float(max(fanIn, 1))).squareRoot(), using: &rng)
            }
        }
        return try Network(name: name, architecture: architecture, preprocessing: .torchvision, parameters: parameters, file: "random")
    }

    /// The bounding box of the non-zero input gradient of unit (channel, row, column) of module `index`.
    static func gradientSupport(_ network: Network, index: Int, size: Int, row: Int, column: Int) -> PixelRect? {
        var rng = SeededGenerator(seed: 3)
        let x = Tensor.randomUniform(shape: [1, 3, size, size], in: 0..<1, using: &rng)
        x.requiresGrad = true
        let y = network.forward(x, to: network.layer(at: NodeID(index)))
        var seed = [Float](repeating: 0, count: y.count)
        seed[(0 * y.shape[2] + row) * y.shape[3] + column] = 1
        y.backward(seed: Tensor(shape: y.shape, storage: seed))
        var top = Int.max, left = Int.max, bottom = -1, right = -1
        for r in 0..<size {
            for c in 0..<size where (0..<3).contains(where: { x.grad!.storage[($0 * size + r) * size + c] != 0 }) {
                top = min(top, r); left = min(left, c); bottom = max(bottom, r); right = max(right, c)
            }
        }
        return bottom < 0 ? nil : PixelRect(top: top, left: left, height: bottom - top + 1, width: right - left + 1)
    }

    @Test func linearConvChainHasExactlyTheComputedSupport() throws {
        let network = try Self.randomNetwork(.vgg16, name: "vgg16")
        let index = network.architecture.names.indexByName["conv1_2"]!  // conv1_1 -> relu -> conv1_2 (pre-ReLU)
        let rf = network.receptiveField(of: network.layer(at: NodeID(index)))
        #expect(rf.size == 5)
        let support = Self.gradientSupport(network, index: index, size: 16, row: 7, column: 3)
        // The ReLU between may zero a few pixels, so the support lies inside; dense random weights keep its corners.
        let rect = rf.clippedRectangle(row: 7, column: 3, height: 16, width: 16)
        #expect(support.map { $0.top >= rect.top && $0.left >= rect.left && $0.bottom <= rect.bottom && $0.right <= rect.right } == true)
    }

    @Test(arguments: [("vgg16", "conv3_1"), ("vgg16", "pool3"), ("alexnet", "conv3"), ("alexnet", "conv5"),
                      ("efficientnet-lite0", "_conv_stem"), ("efficientnet-lite0", "block2"), ("efficientnet-lite0", "_blocks.3._depthwise_conv"),
                      ("efficientnet-lite0", "block6"), ("efficientnet-lite2", "block9")])
    func gradientStaysInsideTheRectangle(model: String, layer: String) throws {
        let architecture = try ModelCatalog.spec(named: model).architecture
        let network = try Self.randomNetwork(architecture, name: model)
        let index = network.architecture.names.indexByName[layer]!
        let size = model == "vgg16" ? 64 : model == "alexnet" ? 131 : 96
        let ref = network.layer(at: NodeID(index))
        let out = GradMode.withoutGrad { network.forward(Tensor(zeros: [1, 3, size, size]), to: ref) }
        let (row, column) = (out.shape[2] / 2, out.shape[3] - 1)
        let rect = network.receptiveField(of: ref).clippedRectangle(row: row, column: column, height: size, width: size)
        let support = try #require(Self.gradientSupport(network, index: index, size: size, row: row, column: column))
        #expect(support.top >= rect.top && support.left >= rect.left && support.bottom <= rect.bottom && support.right <= rect.right,
                "\(model) \(layer) unit (\(row), \(column)): gradient support \(support) outside computed \(rect)")
        // And the field is tight: the support reaches most of the rectangle.
        #expect(support.height * 2 >= rect.height && support.width * 2 >= rect.width, "support \(support) much smaller than \(rect)")
    }
}
