/// A complete recipe: how images are parametrised, transformed and optimised, with its published defaults.
public struct Preset: Sendable {
    public enum ParametrizationKind: String, Codable, Sendable {
        case fourier, pixel, rawInput = "raw-input"
    }
    /// Which tensor of the chosen conv the objective reads.
    public enum Tap: String, Codable, Sendable {
        /// The conv output (before its ReLU): gradients flow even where the filter is off.
        case preReLU = "pre-relu"
        /// After the ReLU (the Keras layer output; what the score measures).
        case postReLU = "post-relu"
    }

    public let name: String
    public let summary: String
    public var parametrization: ParametrizationKind
    public var decorrelate: Bool
    public var tap: Tap
    public var size: Int
    public var steps: Int
    public var method: AscentMethod
    /// Octaves as (fraction of the final size, fraction of the steps), smallest first; [(1, 1)] for none.
    public var octaves: [(sizeFraction: Double, stepFraction: Double)]
    public var standardTransforms: Bool
    public var warmupSteps: Int

    /// The octave stages for this preset's size and steps (sizes rounded to even pixels, steps summing to `steps`).
    public var stages: [Stage] {
        var stages: [Stage] = []
        var assigned = 0
        for (i, octave) in octaves.enumerated() {
            let last = i == octaves.count - 1
            let steps = last ? self.steps - assigned : Int((Double(self.steps) * octave.stepFraction).rounded())
            assigned += steps
            let size = last ? self.size : max(16, Int((Double(self.size) * octave.sizeFraction / 2).rounded()) * 2)
            if steps > 0 { stages.append(Stage(size: size, steps: steps)) }
        }
        return stages
    }

    /// The plan the renderer runs.
    public var plan: RenderPlan {
        RenderPlan(stages: stages, transforms: standardTransforms ? Transform.standard : [], method: method,
                   warmupSteps: warmupSteps)
    }

    /// The Keras blog (2016) recipe behind the lecture's figures: 128 px, 20 steps of RMS-normalised gradient
    /// ascent with step 1 in the network's raw input space, from grey noise, no transforms. The quick preview.
    public static let keras2016 = Preset(
        name: "keras2016", summary: "Keras blog 2016: raw input space, 20 RMS-normalised ascent steps of 1, grey noise start",
        parametrization: .rawInput, decorrelate: false, tap: .postReLU, size: 128, steps: 20,
        method: .normalizedGradient(stepSize: 1), octaves: [(1, 1)], standardTransforms: false, warmupSteps: 0)

    /// lucid's defaults: Fourier parametrisation with decorrelated colour, the standard transforms, Adam 0.05,
    /// 512 steps.
    public static let lucid = Preset(
        name: "lucid", summary: "lucid: FFT + decorrelated colour, standard transforms, Adam 0.05, 512 steps",
        parametrization: .fourier, decorrelate: true, tap: .postReLU, size: 128, steps: 512,
        method: .adam(learningRate: 0.05), octaves: [(1, 1)], standardTransforms: true, warmupSteps: 0)

    /// filtervis's default: lucid's parametrisation, transforms and optimiser, with lucid's redirected-ReLU
    /// warm-up (16 steps) so no filter stays dead, and two octaves: 58 steps with the network seeing the
    /// transformed image at half size, then 38 at full size. The low octave costs a quarter of a full step and
    /// lays out the picture's structure (which settles early); the full-size steps refine it. On VGG16 conv5_1
    /// filters 0-5 this scores 12.4x the best real photo (lucid at 64 full-size steps: 13.8x) for about 80% of
    /// the work, and looks the same by eye (README, "Why this default"; QualityTests checks it beats the photos).
    public static let standard = Preset(
        name: "default", summary: "FFT + decorrelated colour, lucid's transforms, Adam 0.05, 96 steps (58 at half size, 38 at full), 16-step ReLU warm-up",
        parametrization: .fourier, decorrelate: true, tap: .postReLU, size: 128, steps: 96,
        method: .adam(learningRate: 0.05), octaves: [(0.5, 0.6), (1, 0.4)], standardTransforms: true,
        warmupSteps: 16)

    public static let all: [Preset] = [.standard, .keras2016, .lucid]

    /// The preset called `name`, or an error listing them.
    public static func named(_ name: String) throws -> Preset {
        guard let preset = all.first(where: { $0.name == name }) else {
            throw VisualizationError.unknownPreset(name, known: all.map(\.name))
        }
        return preset
    }
}

/// Errors of the visualisation engine, each saying how to fix it.
public enum VisualizationError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String, known: [String])
    case badSetting(String)
    /// The optimisation ended with NaN or infinite scores for these filters (overflowing weights or settings).
    case nonFiniteScores(layer: String, filters: [Int])

    public var description: String {
        switch self {
        case let .unknownPreset(name, known): return "unknown preset '\(name)'; presets: \(known.joined(separator: ", "))"
        case let .badSetting(message): return message
        case let .nonFiniteScores(layer, filters):
            let list = filters.prefix(12).map(String.init).joined(separator: ", ") + (filters.count > 12 ? ", ..." : "")
            return "\(layer): filter(s) \(list) ended with a NaN or infinite score: the weights hold NaN/Inf or huge values, "
                + "or the learning rate diverges; check the weights file and use a smaller --lr"
        }
    }
}
