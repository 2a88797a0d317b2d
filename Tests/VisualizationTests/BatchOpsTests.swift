import Foundation
import TensorCore
import TestSupport
import Testing
@testable import Visualization

/// The renderer's per-image batch ops against PyTorch autograd (Scripts/fixtures/render_ops.py -> batch_ops.json),
/// by finite differences, and by hand.
@Suite struct BatchOpsTests {
    static let cases: [FixtureCase] = (try? loadFixtureCases("batch_ops.json", in: .module)) ?? []

    /// The op a case of batch_ops.json names, applied to its input `x`.
    func apply(_ c: FixtureCase, _ x: Tensor) -> Tensor {
        switch c.name {
        case "channel_planes": return channelPlanes(x, channels: c.ints("channels"))
        case "scatter_channels": return scatterChannels(x, channels: c.ints("channels"), count: c.int("count"))
        case "mix_color_channels": return mixColorChannels(x, matrix: c.input("matrix").storage)
        case "crop_each": return cropEach(x, tops: c.ints("tops"), lefts: c.ints("lefts"), height: c.int("height"), width: c.int("width"))
        default: fatalError("batch_ops.json: unknown case \(c.name)")
        }
    }

    @Test("forward and input gradient equal PyTorch's", arguments: ["channel_planes", "scatter_channels", "mix_color_channels", "crop_each"])
    func matchesPyTorch(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name }, "batch_ops.json lacks \(name): run Scripts/fixtures/render_ops.py")
        runOpFixture(c, atol: 1e-6, rtol: 1e-5) { inputs in apply(c, inputs["x"]!) }
    }

    @Test("input gradient equals finite differences", arguments: ["channel_planes", "scatter_channels", "mix_color_channels", "crop_each"])
    func matchesFiniteDifferences(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.name == name })
        expectGradientMatchesFiniteDifferences(name, at: c.input("x"), tolerance: 1e-3) { apply(c, $0) }
    }

    @Test("by hand: each image reads its own channel, colour mix, offset; the gradient lands where it was read")
    func handChecked() {
        // x[b, c, 0, i] = 10b + 2c + i, shape (2, 3, 1, 2).
        let x = Tensor(shape: [2, 3, 1, 2], storage: (0..<12).map { Float(10 * ($0 / 6) + ($0 % 6)) })
        x.requiresGrad = true
        let planes = channelPlanes(x, channels: [2, 0])
        #expect(planes.shape == [2, 1, 2] && planes.storage == [4, 5, 10, 11])
        planes.backward(seed: Tensor(shape: [2, 1, 2], storage: [1, 2, 3, 4]))
        #expect(x.grad?.storage == [0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0])

        // Planes 0 and 1 of one image land at channels 2 and 0 of 3; channel 1 stays zero.
        let two = Tensor(shape: [1, 2, 1, 2], storage: [1, 2, 3, 4])
        two.requiresGrad = true
        let scattered = scatterChannels(two, channels: [2, 0], count: 3)
        #expect(scattered.shape == [1, 3, 1, 2] && scattered.storage == [3, 4, 0, 0, 1, 2])
        scattered.backward(seed: Tensor(shape: [1, 3, 1, 2], storage: [10, 20, 30, 40, 50, 60]))
        #expect(two.grad?.storage == [50, 60, 10, 20])

        // out[c] = sum_k m[c][k] x[k] at one pixel: m = [[1, 2, 0], [0, 1, 0], [0, 0, -1]], x = (1, 10, 100).
        let rgb = Tensor(shape: [1, 3, 1, 1], storage: [1, 10, 100])
        rgb.requiresGrad = true
        let mixed = mixColorChannels(rgb, matrix: [1, 2, 0, 0, 1, 0, 0, 0, -1])
        #expect(mixed.storage == [21, 10, -100])
        mixed.backward(seed: Tensor(shape: [1, 3, 1, 1], storage: [1, 1, 1]))
        #expect(rgb.grad?.storage == [1, 3, -1])   // the transpose: column sums

        // Image 0 cropped at (0, 1), image 1 at (1, 0); (2, 1, 2, 3) -> (2, 1, 1, 2).
        let img = Tensor(shape: [2, 1, 2, 3], storage: (0..<12).map(Float.init))
        img.requiresGrad = true
        let crops = cropEach(img, tops: [0, 1], lefts: [1, 0], height: 1, width: 2)
        #expect(crops.storage == [1, 2, 9, 10])
        crops.backward(seed: Tensor(shape: [2, 1, 1, 2], storage: [5, 6, 7, 8]))
        #expect(img.grad?.storage == [0, 5, 6, 0, 0, 0, 0, 0, 0, 7, 8, 0])
    }
}
