/// Every hyperparameter of a preset as it ran, for manifests.
public struct PresetDescription: Codable, Equatable {
    public let name: String
    public let parametrization: String
    public let decorrelateColor: Bool
    public let objectiveTap: String
    public let size: Int
    public let steps: Int
    public let method: String
    public let stages: [Stage]
    public let transforms: [String]
    public let warmupSteps: Int

    public init(_ preset: Preset) {
        name = preset.name
        parametrization = preset.parametrization.rawValue
        decorrelateColor = preset.decorrelate
        objectiveTap = preset.tap.rawValue
        size = preset.size
        steps = preset.steps
        method = preset.method.summary
        stages = preset.stages
        transforms = preset.plan.transforms.map(\.description)
        warmupSteps = preset.warmupSteps
    }
}
