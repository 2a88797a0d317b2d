/// One octave: a number of steps with the network seeing the image at `size` pixels.
public struct Stage: Codable, Equatable, Sendable {
    public var size: Int
    public var steps: Int
    public init(size: Int, steps: Int) { self.size = size; self.steps = steps }
}

/// Everything the render loop needs besides the network, objective and parametrisation.
public struct RenderPlan {
    /// Octaves, smallest first; the image itself has the size of the last stage.
    public var stages: [Stage]
    public var transforms: [Transform]
    public var method: AscentMethod
    /// Steps at the start that use the redirected-ReLU gradient.
    public var warmupSteps: Int

    public init(stages: [Stage], transforms: [Transform], method: AscentMethod, warmupSteps: Int = 0) {
        self.stages = stages
        self.transforms = transforms
        self.method = method
        self.warmupSteps = warmupSteps
    }

    public var totalSteps: Int { stages.reduce(0) { $0 + $1.steps } }
    public var imageSize: Int { stages.last?.size ?? 0 }

    /// The square side the network sees in each stage for an image of `image` px (the parametrisation's size,
    /// which is the preset's even when few steps leave only the low octave): the image after the transforms,
    /// scaled by the stage's share of the image size (as `Renderer.optimize` computes it).
    public func networkSides(imageSize image: Int) -> [Int] {
        let transformed = transforms.reduce(image) { $1.outputSide($0) }
        guard image > 0 else { return stages.map(\.size) }
        return stages.map { Int((Double(transformed) * Double($0.size) / Double(image)).rounded()) }
    }
}
