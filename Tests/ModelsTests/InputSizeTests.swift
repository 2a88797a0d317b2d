import Testing
import TensorCore
@testable import Models

/// The size arithmetic every command checks before work: the smallest input that reaches each layer (against
/// hand-worked values, then proven by running the real kernels at that size) and the memory budget.
@Suite struct InputSizeTests {
    /// Zero weights of the right shapes: enough to run the kernels (shapes, not values, are under test).
    static func network(_ name: String, _ architecture: Architecture) throws -> Network {
        var parameters: [String: Tensor] = [:]
        for (key, shape) in architecture.parameterShapes where key.hasPrefix("features.") {
            parameters[key] = Tensor(zeros: shape)
        }
        return try Network(name: name, architecture: architecture, preprocessing: .torchvision, parameters: parameters, file: "zeros")
    }

    /// Worked by hand: VGG16 halves at every pool (pool k needs 2^k px); AlexNet's conv1 (11/4, pad 2) needs 7,
    /// each 3/2 pool needs 3 in, so pool1 needs conv1 output 3 (input 15), pool2 pool1 output 3 (31), pool5 63.
    @Test(arguments: [
        ("vgg16", "conv1_1", 1), ("vgg16", "pool1", 2), ("vgg16", "conv2_1", 2), ("vgg16", "pool2", 4), ("vgg16", "pool3", 8),
        ("vgg16", "pool4", 16), ("vgg16", "conv5_3", 16), ("vgg16", "pool5", 32),
        ("alexnet", "conv1", 7), ("alexnet", "pool1", 15), ("alexnet", "conv2", 15), ("alexnet", "pool2", 31),
        ("alexnet", "conv3", 31), ("alexnet", "conv5", 31), ("alexnet", "pool5", 63),
    ])
    func minimumSides(model: String, layer: String, side: Int) throws {
        let architecture: Architecture = model == "vgg16" ? .vgg16 : .alexnet
        let index = try #require(architecture.names.indexByName[layer])
        #expect(architecture.minimumSide(through: index) == side)
        #expect(architecture.outputSize(through: index, height: side - 1, width: side - 1) == nil)
    }

    @Test("At the minimum side every layer's forward runs and gives the shape the arithmetic predicts")
    func minimumRunsThroughTheKernels() throws {
        for (name, architecture) in [("vgg16", Architecture.vgg16), ("alexnet", Architecture.alexnet)] {
            let network = try Self.network(name, architecture)
            for index in architecture.layers.indices where architecture.layers[index].path.hasPrefix("features.") {
                let side = architecture.minimumSide(through: index)
                let predicted = try #require(architecture.outputSize(through: index, height: side, width: side + 3))
                let out = GradMode.withoutGrad { network.forward(Tensor(zeros: [1, 3, side, side + 3]), to: network.layer(at: NodeID(index))) }
                #expect(Array(out.shape.suffix(2)) == [predicted.height, predicted.width], "\(name) module \(index) at \(side)")
            }
        }
    }

    @Test("Too small and too large settings are typed errors naming the limit that works")
    func checkNamesTheLimits() throws {
        let network = try Self.network("alexnet", .alexnet)
        #expect(throws: ModelError.inputTooSmall(model: "alexnet", layer: "pool5", setting: "--crop", value: 62, seen: 62, needed: 63, smallest: 63)) {
            try network.checkInputSize(SizeSetting(name: "--crop", value: 62), layer: network.layer("pool5"))
        }
        try network.checkInputSize(SizeSetting(name: "--crop", value: 63), layer: network.layer("pool5"))
        // 1 GiB: the largest named size fits, one more does not.
        let budget = Double(1 << 30)
        do {
            try network.checkInputSize(SizeSetting(name: "--size", value: 100_000, batch: 4, training: true), layer: network.layer("conv5"), budget: budget)
            Issue.record("not refused")
        } catch let ModelError.inputTooLarge(_, _, _, _, bytes, _, largest?, _) {
            #expect(bytes > budget)
            let index = try network.layer("conv5").node.index
            func cost(_ s: Int) -> Double { network.architecture.estimatedBytes(through: index, height: s, width: s, batch: 4, training: true) }
            #expect(cost(largest) <= budget && cost(largest + 1) > budget)
            #expect(largest > 100 && largest < 5000)
        }
        #expect(throws: ModelError.self) {
            try network.checkInputSize(SizeSetting(name: "--size", value: Int.max), layer: network.layer("conv1"))
        }
    }

    @Test("The estimate is above measured peaks and grows with size and batch")
    func estimateIsConservative() throws {
        let vgg = Architecture.vgg16
        let conv5_1 = try #require(vgg.names.indexByName["conv5_1"])
        // BENCHMARKS.md: the VGG16 conv5_1 224 px batch-8 step peaks at 362-544 MiB.
        let step = vgg.estimatedBytes(through: conv5_1, height: 224, width: 224, batch: 8, training: true)
        #expect(step > 544 * Double(1 << 20) && step < 4 * 544 * Double(1 << 20))
        #expect(vgg.estimatedBytes(through: conv5_1, height: 225, width: 225, batch: 8, training: true) > step)
        #expect(vgg.estimatedBytes(through: conv5_1, height: 224, width: 224, batch: 9, training: true) > step)
    }

    @Test func memoryLimitParsing() throws {
        #expect(try MemoryBudget.parse("8G") == 8 * Double(1 << 30))
        #expect(try MemoryBudget.parse("512m") == 512 * Double(1 << 20))
        #expect(try MemoryBudget.parse("1.5GB") == 1.5 * Double(1 << 30))
        #expect(try MemoryBudget.parse("1000") == 1000)
        for bad in ["", "abc", "-1G", "0", "inf", "nanG"] {
            #expect(throws: MemoryBudget.ParseError.self) { try MemoryBudget.parse(bad) }
        }
    }
}
