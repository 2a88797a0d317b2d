import Testing
import Models
import TensorCore
@testable import Visualization

/// Objectives are scores to maximise: a few steps must raise each one (the sign bug one anchor shipped for years).
@Suite(.serialized) struct ObjectiveSignTests {
    let vgg = Pretrained.vgg16

    func expectRises(_ objective: Objective, batch: Int = 2, _ comment: Comment? = nil) throws {
        let (before, after) = try ascend(objective, network: vgg, batch: batch)
        for b in 0..<before.count {
            #expect(after[b] > before[b], "\(objective.name) image \(b): \(before[b]) -> \(after[b])")
        }
    }

    @Test func channelRises() throws { try expectRises(.channel(vgg.layer("relu2_1"), filters: [3, 17])) }
    @Test func channelWithBorderRises() throws { try expectRises(.channel(vgg.layer("conv3_1"), filters: [0, 1], border: 2)) }
    @Test func neuronRises() throws { try expectRises(.neuron(vgg.layer("conv2_2"), filters: [5, 9])) }
    @Test func layerMeanSquareRises() throws { try expectRises(.layerMeanSquare(vgg.layer("conv2_1"))) }
    @Test func negationLowers() throws {
        let (before, after) = try ascend(-Objective.channel(vgg.layer("conv2_1"), filters: [4, 4]), network: vgg)
        #expect(zip(before, after).allSatisfy { $1 > $0 }, "the negated score rises, i.e. the channel falls: \(before) -> \(after)")
    }
    @Test func composedObjectiveRises() throws {
        try expectRises(Objective.channel(vgg.layer("relu3_1"), filters: [7, 8]) - 0.1 * .totalVariation + 0.5 * .channel(vgg.layer("relu2_1"), filters: [1, 2]))
    }
    @Test func diversityRises() throws { try expectRises(.diversity(vgg.layer("relu2_1")), batch: 3) }
    @Test(arguments: ["l1", "l2", "tv", "blur"])
    func penaltiesFallWhenSubtracted(name: String) throws {
        let penalty: Objective = switch name {
        case "l1": .l1()
        case "l2": .l2()
        case "tv": .totalVariation
        default: .blurPenalty(sigma: 1)
        }
        try expectRises(-penalty)
    }

    @Test func classLogitRises() throws {
        // Classifier weights are not in the published conv-only sources: a seeded random classifier on the real
        // convs checks the objective's sign through fc6-fc8.
        var rng = SeededGenerator(seed: 9)
        var parameters: [String: Tensor] = [:]
        for (key, shape) in Architecture.alexnet.parameterShapes {
            if let real = Pretrained.alexnet.parameter(key) { parameters[key] = real; continue }
            let fanIn = shape.count > 1 ? shape[1] : 1
            parameters[key] = Tensor.randomNormal(shape: shape, std: (1 / Float(fanIn)).squareRoot(), using: &rng)
        }
        let network = try Network(name: "alexnet", architecture: .alexnet, preprocessing: .torchvision, parameters: parameters, file: "test")
        #expect(network.hasClassifier)
        let (before, after) = try ascend(.classLogit(281, layer: network.layer("fc8")), network: network, batch: 1, size: 96)
        #expect(after[0] > before[0], "logit 281: \(before[0]) -> \(after[0])")
    }

    @Test func normalizedGradientAscentRises() throws {
        let (before, after) = try ascend(.channel(vgg.layer("relu2_1"), filters: [3, 17]), network: vgg, method: .normalizedGradient(stepSize: 0.05))
        #expect(zip(before, after).allSatisfy { $1 > $0 }, "\(before) -> \(after)")
    }
}
