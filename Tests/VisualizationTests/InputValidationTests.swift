import Testing
import TensorCore
@testable import Models
@testable import Visualization

/// Library-level input checks: octave sizes the network sees, objective values checked before any step,
/// JSON5 nesting depth.
@Suite struct InputValidationTests {
    static func network() throws -> Network {
        var parameters: [String: Tensor] = [:]
        for (key, shape) in Architecture.alexnet.parameterShapes where key.hasPrefix("features.") { parameters[key] = Tensor(zeros: shape) }
        return try Network(name: "alexnet", architecture: .alexnet, preprocessing: .torchvision, parameters: parameters, file: "zeros")
    }

    /// By hand: default preset at 96 px: octave 1 is round(96 * 0.5 / 2) * 2 = 48 px, and the transforms turn
    /// 96 into 96 + 24 - 8 - 4 = 108, so the network sees round(108 * 48 / 96) = 54, then 108 at full size.
    @Test func networkSidesFollowTheTransformsAndOctaves() {
        var preset = Preset.standard
        preset.size = 96
        #expect(preset.plan.networkSides(imageSize: 96) == [54, 108])
        var keras = Preset.keras2016
        keras.size = 40
        #expect(keras.plan.networkSides(imageSize: 40) == [40])
        var lucid = Preset.lucid
        lucid.size = 20
        #expect(lucid.plan.networkSides(imageSize: 20) == [32])
    }

    @Test("A job refuses a size whose first octave cannot reach the layer, naming the smallest that works")
    func jobRefusesSmallOctaves() throws {
        let network = try Self.network()
        var preset = Preset.standard
        preset.size = 96
        #expect(throws: ModelError.inputTooSmall(model: "alexnet", layer: "pool5", setting: "--size", value: 96, seen: 54, needed: 63, smallest: 114)) {
            _ = try VisualizationJob(network: network, layer: network.layer("pool5"), filters: [0], preset: preset, seed: 0)
        }
        preset.size = 114
        _ = try VisualizationJob(network: network, layer: network.layer("pool5"), filters: [0], preset: preset, seed: 0)
        // One step leaves only the half-size octave, but the image (and its final score) keeps the full size.
        preset.steps = 1
        _ = try VisualizationJob(network: network, layer: network.layer("pool5"), filters: [0], preset: preset, seed: 0)
        preset.method = .adam(learningRate: .infinity)
        #expect(throws: VisualizationError.self) { _ = try VisualizationJob(network: network, layer: network.layer("pool5"), filters: [0], preset: preset, seed: 0) }
    }

    @Test("Objective values are checked against the layer before a step: position, class, filter, border")
    func objectivesAreValidated() throws {
        let network = try Self.network()
        // conv5 at 63 px: 3 x 3 maps.
        #expect(throws: ObjectiveError.positionOutside(objective: "neuron(conv5)", layer: "conv5", row: 3, column: 0, height: 3, width: 3)) {
            try Objective.neuron(network.layer("conv5"), filters: [0], row: 3, column: 0).validate(network: network, sides: [63])
        }
        try Objective.neuron(network.layer("conv5"), filters: [0], row: 2, column: 2).validate(network: network, sides: [63])
        #expect(throws: ObjectiveError.channelOutOfRange(objective: "channel(conv5)", layer: "conv5", channel: 256, channels: 256)) {
            try Objective.channel(network.layer("conv5"), filters: [256]).validate(network: network, sides: [63])
        }
        #expect(throws: ObjectiveError.self) {
            try (Objective.channel(network.layer("conv5"), filters: [0], border: 2) - 0.1 * .totalVariation).validate(network: network, sides: [63, 127])
        }
        #expect(throws: ObjectiveError.classOutOfRange(index: 1000, classes: 256)) {
            try Objective.classLogit(1000, layer: network.layer("conv5")).validate(network: network, sides: [63])
        }
    }
}
