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

/// A `LayerRef` is valid only for the architecture that resolved it.
@Suite struct LayerRefTests {
    @Test func aReferenceOfAnotherArchitectureIsRefused() throws {
        let vgg = try ReceptiveFieldGradientTests.randomNetwork(.vgg16, name: "vgg16")
        let alex = try ReceptiveFieldGradientTests.randomNetwork(.alexnet, name: "alexnet")
        let conv5_3 = try vgg.layer("conv5_3")
        #expect(throws: ModelError.self) { try alex.check(conv5_3) }
        #expect(throws: ModelError.self) { try alex.checkInputSize(SizeSetting(name: "--size", value: 224), layer: conv5_3) }
        try vgg.check(conv5_3)
    }

    @Test func oneResolutionCarriesEverythingTheToolAsks() throws {
        let vgg = Architecture.vgg16
        let relu = try #require(vgg.layer(named: "block3_conv1"))   // Keras: after the ReLU
        #expect(relu.name == "block3_conv1" && relu.preferredName == "relu3_1" && relu.path == "features.11")
        #expect(relu.aliases.contains("block3_conv1") && relu.aliases.first == "relu3_1")
        #expect(relu.channels == 256 && relu.filterConv == NodeID(10) && relu.scoreNode == NodeID(11) && relu.followsInputSize)
        let conv = try #require(vgg.layer(named: "conv3_1"))
        #expect(conv.node == NodeID(10) && conv.filterConv == NodeID(10) && conv.scoreNode == NodeID(11))
        let pool = try #require(vgg.layer(named: "pool3"))
        #expect(pool.filterConv == nil && pool.scoreNode == pool.node && pool.channels == 256)
        let fc7 = try #require(vgg.layer(named: "fc7"))
        #expect(fc7.channels == 4096 && !fc7.followsInputSize && fc7.filterConv == nil)
        #expect(try #require(vgg.layer(named: "avgpool")).followsInputSize == false)
        #expect(vgg.layer(named: "conv3_9") == nil)
        #expect(try #require(Architecture.alexnet.layer(named: "relu5")).scoreNode == NodeID(11))
    }
}

/// The table `filtervis layers` prints, against hand-computed values.
@Suite struct LayerTableTests {
    @Test func vggTableAt224() throws {
        let table = Architecture.vgg16.table(side: 224)
        #expect(table.count == Architecture.vgg16.layers.count)
        let byName = Dictionary(uniqueKeysWithValues: table.map { ($0.layer.preferredName, $0) })
        let conv31 = try #require(byName["conv3_1"])
        #expect(conv31.shape == [256, 56, 56] && conv31.receptiveField?.size == 24 && conv31.receptiveField?.jump == 4)
        #expect(conv31.op == "conv 3x3/1 pad 1 -> 256")
        #expect(try #require(byName["pool5"]).shape == [512, 7, 7])
        let avgpool = try #require(byName["avgpool"])
        #expect(avgpool.shape == [512, 7, 7] && avgpool.receptiveField == nil)
        #expect(try #require(byName["fc6"]).shape == [4096])
        #expect(try #require(byName["flatten"]).shape == [25088])
        // 20 px: conv3_1 still reached (5 x 5), pool5 not.
        let small = Dictionary(uniqueKeysWithValues: Architecture.vgg16.table(side: 20).map { ($0.layer.preferredName, $0) })
        #expect(small["conv3_1"]?.shape == [256, 5, 5] && small["pool5"]?.shape == nil && small["fc8"]?.shape == nil)
    }
}
