import Testing
import Models
import TensorCore
@testable import Visualization

/// Objectives name filters by their index in the layer; when the renderer computed only the target channels, the
/// context maps them. These check the mapping against the full computation and `scatterChannels`'s derivative.
@Suite struct ObjectiveContextTests {
    static let network = Pretrained.vgg16

    /// Full and restricted outputs of relu3_1 for the same images, as the renderer hands them to an objective.
    static func contexts(filters: [Int]) throws -> (full: ObjectiveContext, restricted: ObjectiveContext, layer: LayerRef) {
        let layer = try network.layer("relu3_1")
        var rng = SeededGenerator(seed: 5)
        let x = Tensor.randomUniform(shape: [filters.count, 3, 40, 40], in: 0..<1, using: &rng)
        let computed = Array(Set(filters)).sorted()
        let full = network.forward(x, to: layer)
        let restricted = network.forward(x, to: layer, options: ForwardOptions(restrictedChannels: (layer.filterConv!, computed)))
        func context(_ t: Tensor, _ channels: [Int]?) -> ObjectiveContext {
            ObjectiveContext(image: x, rendered: x, outputs: [layer.node: .init(tensor: t, channels: channels)])
        }
        return (context(full, nil), context(restricted, computed), layer)
    }

    @Test("A channel objective gives the same bits on the restricted and the full activation")
    func channelReadsTheSameFilter() throws {
        let filters = [200, 7, 131]
        let (full, restricted, layer) = try Self.contexts(filters: filters)
        let objective = Objective.channel(layer, filters: filters)
        #expect(objective.score(restricted).storage == objective.score(full).storage)
        #expect(Renderer.lastLayerRestriction(objective.channelsRead)?.channels == [7, 131, 200])
        #expect(Renderer.lastLayerRestriction(objective.channelsRead)?.conv == layer.filterConv)
    }

    @Test("activation() of a restricted layer has the computed channels in place and zeros elsewhere")
    func activationIsIndexedByFilter() throws {
        let filters = [9, 2]
        let (full, restricted, layer) = try Self.contexts(filters: filters)
        let a = restricted.activation(layer), f = full.activation(layer)
        #expect(a.shape == f.shape)
        let plane = a.shape[2] * a.shape[3], c = a.shape[1]
        for b in 0..<a.shape[0] {
            for channel in [2, 9, 0, 255] {
                let range = ((b * c + channel) * plane)..<((b * c + channel + 1) * plane)
                let expected = [2, 9].contains(channel) ? Array(f.storage[range]) : [Float](repeating: 0, count: plane)
                #expect(Array(a.storage[range]) == expected, "image \(b) channel \(channel)")
            }
        }
    }

    @Test("Reads of one layer merge: all channels win, partial reads unite; two layers are never restricted")
    func readsMerge() throws {
        let net = Self.network
        let (a, b) = (try net.layer("relu3_1"), try net.layer("conv3_1"))
        let partial = Objective.channel(a, filters: [1, 4]) + Objective.neuron(a, filters: [4, 6])
        #expect(partial.channelsRead[a.node]?.channels == [1, 4, 6])
        #expect((partial + .layerMeanSquare(a)).channelsRead[a.node]?.channels == nil)
        #expect(Renderer.lastLayerRestriction((partial + .layerMeanSquare(a)).channelsRead) == nil)
        #expect(Renderer.lastLayerRestriction((partial + .channel(b, filters: [0, 1])).channelsRead) == nil)
        #expect(Renderer.lastLayerRestriction((partial - 0.1 * .totalVariation).channelsRead)?.channels == [1, 4, 6])
        #expect(Renderer.lastLayerRestriction(Objective.channel(try net.layer("pool3"), filters: [0, 1]).channelsRead) == nil,
                "a pool's channels come from the whole conv below it")
    }

    @Test("scatterChannels: hand-checked forward, gradient by finite differences")
    func scatterChannelsForwardAndGradient() throws {
        // x (1, 2, 1, 2) = [[1, 2], [3, 4]] placed at channels 2 and 0 of 3.
        let x = Tensor(shape: [1, 2, 1, 2], storage: [1, 2, 3, 4])
        #expect(scatterChannels(x, channels: [2, 0], count: 3).storage == [3, 4, 0, 0, 1, 2])
        var rng = SeededGenerator(seed: 8)
        let input = Tensor.randomUniform(shape: [2, 2, 2, 3], in: -1..<1, using: &rng)
        let weights = Tensor.randomUniform(shape: [2, 4, 2, 3], in: -1..<1, using: &rng)
        func loss(_ t: Tensor) -> Tensor { sum(scatterChannels(t, channels: [3, 1], count: 4) * weights) }
        input.requiresGrad = true
        loss(input).backward()
        let analytic = try #require(input.grad).storage
        for i in 0..<input.count {
            let h: Float = 1e-2
            let plus = Tensor(shape: input.shape, storage: input.storage), minus = Tensor(shape: input.shape, storage: input.storage)
            plus.storage[i] += h
            minus.storage[i] -= h
            let numeric = GradMode.withoutGrad { (loss(plus).storage[0] - loss(minus).storage[0]) / (2 * h) }
            #expect(abs(numeric - analytic[i]) < 1e-3, "element \(i): analytic \(analytic[i]), numeric \(numeric)")
        }
    }
}
