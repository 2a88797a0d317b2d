import Experiments
import Foundation
import TensorCore
import Visualization

/// `filtervis run CONFIG --plan`: the units, the shards they fall into, and the estimated wall time from a short
/// calibration on this machine, on stdout; nothing is computed for real and nothing is written.
struct PlanPrinter {
    let plan: ExperimentPlan
    let shards: Int
    /// The shard given with --shard, marked in the listing.
    let marked: Shard?

    func print() throws {
        let units = plan.units
        var kinds: [String: Int] = [:]
        for unit in units {
            switch unit {
            case .filters: kinds["filter", default: 0] += 1
            case .patches: kinds["patch", default: 0] += 1
            case .featuremaps: kinds["feature-map", default: 0] += 1
            }
        }
        let filterCount = plan.config.outputs.contains(.filters) ? plan.config.layers.reduce(0) { $0 + plan.filters[$1]!.count } : 0
        out("plan: \(plan.config.name): \(plan.network.name), \(units.count) unit(s) ("
            + ["filter", "patch", "feature-map"].compactMap { k in kinds[k].map { "\($0) \(k)" } }.joined(separator: ", ")
            + "), \(filterCount) filter(s) x \(plan.presets.count) preset(s) x \(plan.config.seeds.count) seed(s)"
            + (plan.photos.isEmpty ? "" : ", \(plan.photos.count) photo(s)"))
        printError("plan: calibrating on this machine with \(Parallel.threads) thread(s) (three optimisation steps per layer and preset, one photo per patch layer) ...")
        let estimate = try ExperimentEstimate.calibrate(plan)
        out(String(format: "calibration (%d thread(s), %.1f s):", Parallel.threads, estimate.calibrationSeconds))
        for line in estimate.measurements { out("  " + line) }
        out("units (position, shard of \(shards), estimated seconds):")
        for (position, unit) in units.enumerated() {
            let shard = position % shards
            let mark = marked.map { $0.count == shards && $0.index == shard ? "  <- --shard \($0)" : "" } ?? ""
            out(String(format: "  %5d  %@  shard %d  %8.1f s%@", position, unit.id, shard, estimate.seconds(unit), mark))
        }
        let perShard = estimate.shardSeconds(count: shards)
        if shards > 1 {
            out("shards:")
            for (i, seconds) in perShard.enumerated() {
                let count = units.indices.filter { $0 % shards == i }.count
                out("  shard \(i)/\(shards): \(count) unit(s), \(Self.clock(seconds))")
            }
        }
        let total = perShard.reduce(0, +)
        out("estimated work: \(Self.clock(total)) on one machine like this (\(Parallel.threads) thread(s)), before assembly")
        if shards > 1 {
            out("estimated wall time with \(shards) shards on \(shards) such machines: \(Self.clock(perShard.max() ?? 0)) (the slowest shard), then `filtervis merge`")
        }
    }

    private func out(_ line: String) { Swift.print(line) }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d h %02d min", s / 3600, (s / 60) % 60) : String(format: "%d min %02d s", s / 60, s % 60)
    }
}
