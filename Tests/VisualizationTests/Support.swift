import Foundation
import Models
import TensorCore
@testable import Visualization

/// The real pretrained networks, loaded once (tests need `make weights`, which `make test` runs first).
enum Pretrained {
    static let vgg16: Network = load("vgg16")
    static let alexnet: Network = load("alexnet")
    static let efficientNetLite0: Network = load("efficientnet-lite0")

    static func load(_ name: String) -> Network {
        do { return try Network.load(model: name) } catch { fatalError("\(error) — run `make weights` before the tests") }
    }
}

extension Network {
    /// Several layers resolved by name (tests name them in bulk).
    func layers(_ names: [String]) throws -> [LayerRef] { try names.map { try layer($0) } }
}

/// The objective's per-image value on the parametrisation's current image, without transforms or gradients.
func evaluate(_ objective: Objective, on parametrization: Parametrization, network: Network) throws -> [Float] {
    let taps = Set(objective.channelsRead.keys)
    return GradMode.withoutGrad {
        let image = parametrization.render()
        let outputs = taps.isEmpty ? [:] : network.forward(image, taps: taps,
                                                          options: ForwardOptions(inputIsPreprocessed: parametrization.space == .modelInput))
        let context = ObjectiveContext(image: image, rendered: image, outputs: outputs.mapValues { .init(tensor: $0, channels: nil) })
        return objective.score(context).storage
    }
}

/// A few plain ascent steps (no transforms) at `size` pixels on a fresh pixel parametrisation.
func ascend(_ objective: Objective, network: Network, batch: Int = 2, size: Int = 48, steps: Int = 5,
            method: AscentMethod = .adam(learningRate: 0.05), seed: UInt64 = 1) throws -> (before: [Float], after: [Float]) {
    var generators = (0..<batch).map { SeededGenerator(seed: seed &+ UInt64($0)) }
    let parametrization = PixelParametrization(batch: batch, size: size, std: 0.5, generators: &generators)
    let before = try evaluate(objective, on: parametrization, network: network)
    let plan = RenderPlan(stages: [Stage(size: size, steps: steps)], transforms: [], method: method)
    _ = try Renderer.optimize(network: network, objective: objective, parametrization: parametrization, plan: plan, generators: &generators)
    return (before, try evaluate(objective, on: parametrization, network: network))
}
