import Foundation
import Testing
import TensorCore
@testable import Models

/// The graph models' structure against the reference checkpoints' own key counts and the TF "SAME" rule.
@Suite struct GraphArchitectureTests {
    /// Keys and parameter counts of the published .pth files (torch.load: 296 / 386 / 386 keys, 49 / 64 / 64 of
    /// them `num_batches_tracked` counters of one element each).
    @Test(arguments: [
        (Architecture.efficientNetLite0, 296, 4_694_073, 49),
        (Architecture.efficientNetLite1, 386, 5_470_408, 64),
        (Architecture.efficientNetLite2, 386, 6_150_232, 64),
    ])
    func keysAndParameterCountsMatchTheCheckpoints(architecture: Architecture, keys: Int, parameters: Int, batchNorms: Int) {
        let shapes = architecture.parameterShapes
        #expect(shapes.count + batchNorms == keys)
        #expect(shapes.map { $0.shape.reduce(1, *) }.reduce(0, +) + batchNorms == parameters)
        #expect(Set(shapes.map(\.key)).count == shapes.count)
    }

    @Test func tensorflowSamePadding() {
        // out = ceil(in / stride); the odd zero goes bottom/right (TF), e.g. 224 -> 112 with a 3x3/2 conv: (0, 1).
        #expect(Architecture.samePadding(side: 224, kernel: 3, stride: 2) == Padding(top: 0, bottom: 1, left: 0, right: 1))
        #expect(Architecture.samePadding(side: 56, kernel: 5, stride: 2) == Padding(top: 1, bottom: 2, left: 1, right: 2))
        #expect(Architecture.samePadding(side: 65, kernel: 5, stride: 2) == Padding(top: 2, bottom: 2, left: 2, right: 2))
        #expect(Architecture.samePadding(side: 28, kernel: 5, stride: 1) == Padding.symmetric(2))
        #expect(Architecture.samePadding(side: 7, kernel: 1, stride: 1) == Padding.zero)
    }

    @Test func liteShapesAtTheNativeSides() throws {
        for (architecture, side, blocks) in [(Architecture.efficientNetLite0, 224, 16), (.efficientNetLite1, 240, 21), (.efficientNetLite2, 260, 21)] {
            let head = try #require(architecture.layer(named: "head"))
            #expect(architecture.outputSize(through: head.node.index, height: side, width: side)! == (side / 32 + (side % 32 == 0 ? 0 : 1), side / 32 + (side % 32 == 0 ? 0 : 1)))
            #expect(head.channels == 1280)
            #expect(architecture.layer(named: "block\(blocks - 1)") != nil && architecture.layer(named: "block\(blocks)") == nil)
            let logits = try #require(architecture.layer(named: "logits"))
            #expect(logits.channels == 1000 && !logits.followsInputSize)
        }
    }

    @Test func residualAddsReadTheBlockInputAndTheProjection() throws {
        let lite0 = Architecture.efficientNetLite0
        let add = try #require(lite0.layer(named: "_blocks.2.add"))
        let inputs = lite0.layers[add.node.index].inputs.map { lite0.layers[$0].path }
        #expect(inputs == ["_blocks.2._project_conv", "_blocks.1._project_conv"])
        #expect(lite0.layer(named: "block2")?.node == add.node)
        // A strided or widening block has no skip: its output is the projection.
        #expect(lite0.layer(named: "block1")?.path == "_blocks.1._project_conv")
        // Scores read after the ReLU6 of the conv a depthwise layer name taps.
        let depthwise = try #require(lite0.layer(named: "_blocks.3._depthwise_conv"))
        #expect(lite0.layer(at: depthwise.scoreNode).path == "_blocks.3._depthwise_conv.relu6")
    }

    @Test func aGraphWithALaterInputOrATwiceUsedNameIsRefused() {
        let conv = LayerKind.conv(ConvSpec(inChannels: 3, outChannels: 4, kernel: 1))
        #expect(throws: ModelError.self) {
            _ = try Architecture(family: "bad", graph: [Layer(path: "a", kind: conv, inputs: [1]), Layer(path: "b", kind: .relu, inputs: [0])])
        }
        #expect(throws: ModelError.self) {
            _ = try Architecture(family: "bad", graph: [Layer(path: "a", kind: conv, inputs: [-1]), Layer(path: "b", kind: .relu, inputs: [0], aliases: ["a"])])
        }
    }

    /// A folded batch norm equals conv then batch norm computed separately, in Double (by hand, per channel).
    @Test func batchNormFoldsIntoTheConv() throws {
        let spec = ConvSpec(inChannels: 2, outChannels: 2, kernel: 1, bias: false, batchNorm: BatchNormSpec(path: "bn", epsilon: 1e-3))
        let architecture = try Architecture(family: "tiny", graph: [Layer(path: "conv", kind: .conv(spec), inputs: [Layer.image])])
        let w: [Float] = [1, 2, -1, 0.5], gamma: [Float] = [2, 0.5], beta: [Float] = [0.1, -0.2], mean: [Float] = [0.3, -1], variance: [Float] = [4, 0.25]
        let network = try Network(name: "tiny", architecture: architecture, preprocessing: .torchvision, parameters: [
            "conv.weight": Tensor(shape: [2, 2, 1, 1], storage: w), "bn.weight": Tensor(shape: [2], storage: gamma),
            "bn.bias": Tensor(shape: [2], storage: beta), "bn.running_mean": Tensor(shape: [2], storage: mean),
            "bn.running_var": Tensor(shape: [2], storage: variance), "bn.num_batches_tracked": Tensor(shape: [], storage: [7]),
        ], file: "tiny.pth")
        let x: [Float] = [0.5, -2]   // one pixel, two channels (already preprocessed)
        let y = network.forward(Tensor(shape: [1, 2, 1, 1], storage: x), taps: [NodeID(0)], options: ForwardOptions(inputIsPreprocessed: true))[NodeID(0)]!
        for o in 0..<2 {
            let conv = Double(w[2 * o]) * Double(x[0]) + Double(w[2 * o + 1]) * Double(x[1])
            let expected = (conv - Double(mean[o])) / (Double(variance[o]) + 1e-3).squareRoot() * Double(gamma[o]) + Double(beta[o])
            #expect(abs(Double(y.storage[o]) - expected) < 1e-6)
        }
    }

    @Test func mismatchedKeysAreListedBothWaysAsTorchDoes() {
        let spec = ConvSpec(inChannels: 3, outChannels: 2, kernel: 1)
        let architecture = try! Architecture(family: "tiny", graph: [Layer(path: "conv", kind: .conv(spec), inputs: [Layer.image])])
        do {
            _ = try Network(name: "tiny", architecture: architecture, preprocessing: .torchvision,
                            parameters: ["conv.weight": Tensor(zeros: [2, 3, 1, 1]), "extra.weight": Tensor(zeros: [1])], file: "w.pth")
            Issue.record("accepted mismatched keys")
        } catch {
            #expect("\(error)" == "w.pth: the weights do not match tiny: missing key(s) 1: conv.bias; unexpected key(s) 1: extra.weight (is it the right --model?)")
        }
    }
}
