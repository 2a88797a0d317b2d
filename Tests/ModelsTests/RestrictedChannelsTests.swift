import Testing
import TensorCore
@testable import Models

/// Forward with `restrictedChannels` (activation maximisation of a few filters): the restricted conv computes
/// exactly the chosen channels, and repeated steps get the same weight tensors, so weight transforms are reused.
@Suite struct RestrictedChannelsTests {
    @Test func restrictedForwardEqualsTheChosenChannelsAndReusesItsRows() throws {
        let network = try ReceptiveFieldGradientTests.randomNetwork(.vgg16, name: "vgg16")
        let conv = try network.layerIndex("conv2_1")
        var rng = SeededGenerator(seed: 21)
        let image = Tensor.randomUniform(shape: [1, 3, 32, 32], in: 0..<1, using: &rng)
        // 16 channels, so the restricted conv takes the same (Winograd) path as the full one and must match it bit
        // for bit: each output's sum runs in the same order whatever the other output channels are.
        let channels = (0..<16).map { ($0 * 37 + 5) % 128 }
        let full = network.forward(image, to: conv)
        let options = ForwardOptions(restrictedChannels: (conv: conv, channels: channels))
        let first = network.forward(image, to: conv, options: options)
        let second = network.forward(image, to: conv, options: options)
        let plane = 16 * 16
        #expect(first.shape == [1, 16, 16, 16])
        for (i, c) in channels.enumerated() {
            #expect(Array(first.storage[(i * plane)..<((i + 1) * plane)]) == Array(full.storage[(c * plane)..<((c + 1) * plane)]))
        }
        #expect(second.storage == first.storage)

        let a = network.restrictedParameters(conv: conv, channels: channels)
        let b = network.restrictedParameters(conv: conv, channels: channels)
        #expect(a.weight === b.weight && a.bias === b.bias, "the same request gets the same tensors")
        #expect(network.restrictedParameters(conv: conv, channels: [5, 0]).weight !== a.weight)
        for i in 0..<(RestrictedRows.capacity + 1) { _ = network.restrictedParameters(conv: conv, channels: [i]) }
        #expect(network.restrictedParameters(conv: conv, channels: channels).weight !== a.weight, "older requests are dropped")
    }
}
