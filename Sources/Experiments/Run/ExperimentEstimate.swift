import Foundation
import Models
import TensorCore
import Visualization

/// How long an experiment's units take on this machine: a short calibration (three optimisation steps, spread over
/// the octave stages, of every (layer, preset, batch) the units use, one photo through the patch search per layer), scaled by
/// each unit's work. Used by `filtervis run --plan`; nothing is written.
public struct ExperimentEstimate {
    /// One (layer, preset, batch size)'s cost: fixed seconds (setup, final scoring) plus seconds per step of each
    /// octave stage, for a batch of `batch` filters.
    struct FilterCost {
        var batch: Int
        var fixed: Double
        var perStep: [Double]
    }

    let plan: ExperimentPlan
    var filterCosts: [String: FilterCost] = [:]
    var photoSeconds: [String: Double] = [:]
    var featureMapSeconds: [String: Double] = [:]
    /// What was measured, one line per calibration, for the plan's printout.
    public private(set) var measurements: [String] = []
    /// Seconds the calibration itself took.
    public private(set) var calibrationSeconds = 0.0

    init(plan: ExperimentPlan) { self.plan = plan }

    static func key(layer: String, preset: String, batch: Int) -> String { "\(layer)|\(preset)|\(batch)" }

    /// Runs the calibration for every kind of unit in `plan`; `onMeasure` gets each measurement line as it is made.
    public static func calibrate(_ plan: ExperimentPlan, onMeasure: (String) -> Void = { _ in }) throws -> ExperimentEstimate {
        var estimate = ExperimentEstimate(plan: plan)
        let start = Date()
        func note(_ line: String) { estimate.measurements.append(line); onMeasure(line) }
        for unit in plan.units {
            switch unit {
            case let .filters(layer, presetName, seed, _, filters):
                let key = key(layer: layer, preset: presetName, batch: filters.count)
                guard estimate.filterCosts[key] == nil else { continue }
                let preset = plan.preset(named: presetName)
                let cost = try measureFilters(plan.network, layer: plan.layers[layer]!, preset: preset, seed: seed, filters: filters)
                estimate.filterCosts[key] = cost
                let stages = zip(preset.stages, cost.perStep).map { String(format: "%d steps x %.3f s at %d px", $0.steps, $1, $0.size) }
                note(String(format: "%@ %@, %d filter(s): %@ + %.2f s -> %.1f s per unit", layer, presetName, filters.count,
                            stages.joined(separator: " + "), cost.fixed, estimate.seconds(unit)))
            case let .patches(layer, _, images):
                guard estimate.photoSeconds[layer] == nil, let first = images.first else { continue }
                let scoreLayer = plan.scoreLayer(layer)
                let t0 = Date()
                _ = try PatchSearch.run(network: plan.network, layers: [scoreLayer], images: [plan.photoFolder.appendingPathComponent(first)],
                                        settings: plan.patchSettings, filters: [scoreLayer.name: plan.filters[layer]!])
                estimate.photoSeconds[layer] = Date().timeIntervalSince(t0)
                note(String(format: "patches %@: %.3f s per photo -> %.1f s per unit of %d photo(s)", layer,
                            estimate.photoSeconds[layer]!, estimate.seconds(unit), images.count))
            case let .featuremaps(layer):
                guard let maps = plan.config.featuremaps, estimate.featureMapSeconds[layer] == nil else { continue }
                let t0 = Date()
                let input = try FeatureMaps.input(photo: ExperimentPlan.photoURL(maps.photo, folder: plan.photoFolder), size: maps.size)
                _ = try FeatureMaps.grid(try FeatureMaps.activations(network: plan.network, layer: plan.layers[layer]!, input: input), tile: maps.tile)
                estimate.featureMapSeconds[layer] = Date().timeIntervalSince(t0)
                note(String(format: "feature maps %@: %.2f s", layer, estimate.featureMapSeconds[layer]!))
            }
        }
        estimate.calibrationSeconds = Date().timeIntervalSince(start)
        return estimate
    }

    /// Times a job of the unit's filters with two steps in the first octave stage and one in each later one: a
    /// step's cost is the time between its progress report and the previous one (the first stage's second step,
    /// each later stage's only step); the rest of the time (setup, final scoring) is the fixed part.
    static func measureFilters(_ network: Network, layer: LayerRef, preset: Preset, seed: UInt64, filters: [Int]) throws -> FilterCost {
        let stages = preset.stages
        var probe = preset
        probe.steps = stages.count + 1
        while probe.stages.count < stages.count || probe.stages.first!.steps < 2 || probe.stages.contains(where: { $0.steps < 1 }) {
            probe.steps += 1
        }
        let job = try VisualizationJob(network: network, layer: layer, filters: filters, preset: probe, seed: seed, batchSize: filters.count)
        var stamps: [Date] = []
        let start = Date()
        _ = try job.run { _, _ in stamps.append(Date()) }
        let total = Date().timeIntervalSince(start)
        var perStep: [Double] = [], end = 0
        for stage in probe.stages {
            end += stage.steps
            perStep.append(end >= 2 && end - 1 < stamps.count ? stamps[end - 1].timeIntervalSince(stamps[end - 2]) : 0)
        }
        let stepped = zip(probe.stages, perStep).reduce(0) { $0 + Double($1.0.steps) * $1.1 }
        return FilterCost(batch: filters.count, fixed: max(0, total - stepped), perStep: perStep)
    }

    /// The estimated seconds of one unit on this machine, at the calibration's thread count.
    public func seconds(_ unit: WorkUnit) -> Double {
        switch unit {
        case let .filters(layer, presetName, _, _, filters):
            // A smaller last batch costs about its share of the calibrated one.
            guard let cost = filterCosts[Self.key(layer: layer, preset: presetName, batch: filters.count)]
                    ?? filterCosts.first(where: { $0.key.hasPrefix("\(layer)|\(presetName)|") })?.value else { return 0 }
            let steps = plan.preset(named: presetName).stages.map(\.steps)
            let stepped = zip(steps, cost.perStep).reduce(0) { $0 + Double($1.0) * $1.1 }
            return (cost.fixed + stepped) * Double(filters.count) / Double(cost.batch)
        case let .patches(layer, _, images):
            return (photoSeconds[layer] ?? 0) * Double(images.count)
        case let .featuremaps(layer):
            return featureMapSeconds[layer] ?? 0
        }
    }

    /// Estimated seconds of each shard of `count` (the units whose position mod count is the shard).
    public func shardSeconds(count: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: count)
        for (position, unit) in plan.units.enumerated() { sums[position % count] += seconds(unit) }
        return sums
    }
}

/// A unit's work in relative terms, from the network's shape alone (multiply-adds per input pixel up to the
/// layer, times pixels, steps and images): what the run's progress uses to turn elapsed time into an ETA.
public enum WorkModel {
    /// Multiply-adds per input pixel of a forward pass through the convs `layer` needs.
    static func macsPerPixel(_ network: Network, through layer: LayerRef) -> Double {
        let architecture = network.architecture
        var total = 0.0
        for i in architecture.ancestors(of: [layer.node.index]) {
            guard case let .conv(c) = architecture.layers[i].kind else { continue }
            let jump = Double(ReceptiveField(layers: architecture.layers, through: i).jump)
            total += Double(c.weightShape.reduce(1, *)) / (jump * jump)
        }
        return total
    }

    /// What a pixel costs besides the convolutions (parametrisation, transforms, optimiser, activations), in
    /// multiply-adds: fitted to the calibrated step times of VGG16 (~3,200) and AlexNet (~6,600) conv1 vs conv5
    /// here, without it the deep layers' share of a run would be overestimated up to 3x.
    static let overheadPerPixel = 5000.0

    public static func work(_ unit: WorkUnit, plan: ExperimentPlan) -> Double {
        func macs(_ layer: String) -> Double {
            overheadPerPixel + macsPerPixel(plan.network, through: plan.scoreLayer(layer))
        }
        switch unit {
        case let .filters(layer, presetName, _, _, filters):
            // A step is a forward and a backward pass (about 3 forwards); the final scoring is one more forward.
            let preset = plan.preset(named: presetName)
            let pixels = preset.stages.reduce(0.0) { $0 + 3 * Double($1.steps * $1.size * $1.size) } + Double(preset.size * preset.size)
            return Double(filters.count) * pixels * macs(layer)
        case let .patches(layer, _, images):
            return Double(images.count * 224 * 224) * macs(layer)
        case let .featuremaps(layer):
            return Double((plan.config.featuremaps?.size ?? 224) * (plan.config.featuremaps?.size ?? 224)) * macs(layer)
        }
    }

    /// How many preference images (filter units) or photos (patch units) a unit processes.
    public static func images(_ unit: WorkUnit) -> (filters: Int, photos: Int) {
        switch unit {
        case let .filters(_, _, _, _, filters): return (filters.count, 0)
        case let .patches(_, _, images): return (0, images.count)
        case .featuremaps: return (0, 1)
        }
    }
}
