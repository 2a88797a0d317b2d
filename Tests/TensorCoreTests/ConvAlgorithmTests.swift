import Foundation
import Testing
@testable import TensorCore

/// `direct` really replaces Winograd (not merely gives close numbers): other bits on normal data for an eligible
/// 3x3 layer, the direct multiply-add count, and a scope that does not leak. Set as the CLI sets FILTERVIS_CONV
/// (a `ComputeSettings` scope, see CommandEnvironment); CLITests' ConvAlgorithmCommandTests prove it end to end.
@Suite struct ConvAlgorithmTests {
    /// An eligible layer: 3x3, stride 1, padding 1, 32 input channels (Winograd needs 16 or more).
    static let (batch, channels, outputs, side) = (2, 32, 24, 12)

    func convolve(_ algorithm: ConvAlgorithm) -> (y: Tensor, dx: Tensor) {
        var rng = SeededGenerator(seed: 11)
        let x = Tensor.randomNormal(shape: [Self.batch, Self.channels, Self.side, Self.side], using: &rng)
        let w = Tensor.randomNormal(shape: [Self.outputs, Self.channels, 3, 3], std: 0.1, using: &rng)
        let gy = Tensor.randomNormal(shape: [Self.batch, Self.outputs, Self.side, Self.side], using: &rng)
        x.requiresGrad = true
        return ComputeSettings(convolution: algorithm).run {
            let y = conv2d(x, weight: w, padding: .explicit(1, 1))
            y.backward(seed: gy)
            return (y, x.grad!)
        }
    }

    @Test("direct gives other bits than Winograd on normal data, forward and d/dx, within rounding of each other")
    func directChangesTheBits() {
        let direct = convolve(.direct), winograd = convolve(.automatic)
        let differing = zip(direct.y.storage, winograd.y.storage).filter { $0 != $1 }.count
        let differingGrad = zip(direct.dx.storage, winograd.dx.storage).filter { $0 != $1 }.count
        #expect(differing > direct.y.count / 4, "only \(differing) of \(direct.y.count) outputs differ: is Winograd running at all?")
        #expect(differingGrad > direct.dx.count / 4, "only \(differingGrad) of \(direct.dx.count) input-gradient values differ")
        let worst = zip(direct.y.storage, winograd.y.storage).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "\(worst)")
        // Each is deterministic, so the difference is the algorithm's, not noise.
        #expect(convolve(.direct).y.storage == direct.y.storage && convolve(.automatic).y.storage == winograd.y.storage)
    }

    @Test("direct executes the direct multiply-add count; auto 16 per 2x2 tile and channel pair; the scope ends")
    func executedMultiplyAdds() {
        func count() -> Int {
            ConvAlgorithm.executedMultiplyAdds(batch: Self.batch, inChannels: Self.channels, outChannels: Self.outputs,
                                               height: Self.side, width: Self.side, kernel: 3, stride: 1, padding: 1, inputGradient: false)
        }
        let directMACs = Self.batch * Self.outputs * Self.channels * 9 * Self.side * Self.side
        let tiles = (Self.side / 2) * (Self.side / 2)
        #expect(ComputeSettings(convolution: .direct).run { count() } == directMACs)
        #expect(ComputeSettings(convolution: .automatic).run { count() } == Self.batch * Self.outputs * Self.channels * 16 * tiles)
        #expect(ComputeSettings(convolution: .direct).run { ConvAlgorithm.current } == .direct)
        #expect(ComputeSettings(convolution: .direct).run { ConvAlgorithm.with(.automatic) { ConvAlgorithm.current } } == .automatic)
        #expect(ConvAlgorithm.current == .automatic, "the default outside any scope")
    }
}
