import Testing
import TensorCore
@testable import Models

/// Forward with `restrictedChannels` (activation maximisation of a few filters): the restricted conv computes
/// exactly the chosen channels, and its weights carry the network's identity, so every step reuses one transform.
@Suite struct RestrictedChannelsTests {
    @Test func restrictedForwardEqualsTheChosenChannels() throws {
        let network = try ReceptiveFieldGradientTests.randomNetwork(.vgg16, name: "vgg16")
        let conv = try network.layer("conv2_1")
        var rng = SeededGenerator(seed: 21)
        let image = Tensor.randomUniform(shape: [1, 3, 32, 32], in: 0..<1, using: &rng)
        // 16 channels, so the restricted conv takes the same (Winograd) path as the full one and must match it bit
        // for bit: each output's sum runs in the same order whatever the other output channels are.
        let channels = (0..<16).map { ($0 * 37 + 5) % 128 }
        let full = network.forward(image, to: conv)
        let options = ForwardOptions(restrictedChannels: (conv: conv.node, channels: channels))
        let first = network.forward(image, to: conv, options: options)
        let second = network.forward(image, to: conv, options: options)
        let plane = 16 * 16
        #expect(first.shape == [1, 16, 16, 16])
        for (i, c) in channels.enumerated() {
            #expect(Array(first.storage[(i * plane)..<((i + 1) * plane)]) == Array(full.storage[(c * plane)..<((c + 1) * plane)]))
        }
        #expect(second.storage == first.storage)
    }

    @Test func restrictedRowsAreNamedByTheNetworkSoTheirTransformIsCached() throws {
        let network = try ReceptiveFieldGradientTests.randomNetwork(.vgg16, name: "vgg16")
        let other = try ReceptiveFieldGradientTests.randomNetwork(.vgg16, name: "vgg16")
        let conv = try network.layer("conv2_1").node.index
        let channels = [3, 9, 40]
        let a = network.convParameters(conv, channels: channels), b = network.convParameters(conv, channels: channels)
        #expect(a.identity == b.identity, "the same rows get the same name, though the arrays are cut anew")
        #expect(a.identity != network.convParameters(conv, channels: [9, 3, 40]).identity, "the order is part of the name")
        #expect(a.identity != network.convParameters(conv, channels: nil).identity)
        #expect(a.identity != other.convParameters(conv, channels: channels).identity, "another network never shares a name")
        #expect(a.weight.shape == [3, 64, 3, 3] && a.bias?.shape == [3])
        let whole = try #require(network.parameter("features.5.weight"))
        let rows = 64 * 9
        #expect(Array(a.weight.storage[rows..<(2 * rows)]) == Array(whole.storage[(9 * rows)..<(10 * rows)]))
    }
}
