import ArgumentParser
import Foundation
import Models
import TensorCore
import Visualization

/// `filtervis run`: an experiment config into a folder of grids, galleries, scores and an HTML report.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment config (Experiments/NAME.json5) into Outputs/NAME/.",
        discussion: """
        The config lists only what differs from the defaults (see Experiments/README.md). The work is split into
        units (layer, filter batch, seed, preset for filter images; layer, photo subset for patches; a layer for
        feature maps). Each finished unit is saved atomically with a done-record, so an interrupted run resumes
        where it stopped; rerunning a finished experiment recomputes nothing.

        With --shard i/n only every n-th unit (from i) runs, e.g. one Slurm array task each; when the last unit
        is done, or with `filtervis merge OUT`, the grids, galleries, manifest.json and index.html are assembled:
        the same bytes as one unsharded run (timings apart).

        Examples:
          filtervis run Experiments/lecture-vgg16.json5
          filtervis run Experiments/alexnet-all.json5 --shard $SLURM_ARRAY_TASK_ID/8 && filtervis merge Outputs/alexnet-all
        """)

    @Argument(help: "The experiment config (.json5).")
    var config: String

    @Option(help: "Run only shard i of n (i/n, 0-based): units whose index mod n is i.")
    var shard: String?

    @Option(help: "Output folder (default: Outputs/NAME).")
    var out: String?

    @Option(help: "Worker threads (default: the config's, else all cores). Results do not depend on it.")
    var threads: Int?

    @Option(help: "Weights file to use instead of the cached import.")
    var weights: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let shard {
            do { _ = try Shard(parsing: shard) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        try runReportingErrors(usageErrors: false) {
            let experiment = try ExperimentConfig.load(URL(fileURLWithPath: config), displayName: config)
            let shard = try shard.map(Shard.init(parsing:)) ?? .whole
            let outDir = URL(fileURLWithPath: out ?? "Outputs/\(experiment.name)", isDirectory: true)
            try OutputFolder.prepare(outDir)
            if let n = threads ?? experiment.threads { Parallel.threads = n }
            let network = try WeightsFetcher.loadNetwork(model: experiment.model, weights: weights)
            let plan = try ExperimentPlan(config: experiment, network: network, file: config)
            let runner = ExperimentRunner(plan: plan, output: outDir)
            let mine = plan.units.indices.filter { shard.owns(position: $0) }.count
            log("run: \(experiment.name): \(plan.units.count) unit(s), \(mine) in shard \(shard), \(Parallel.threads) thread(s) -> \(outDir.path)")
            let summary = try runner.run(shard: shard, onEvent: ExperimentLog(label: experiment.name).handle)
            log(String(format: "run: computed %d unit(s), %d already done, in %.1f s", summary.computed.count, summary.skipped.count, summary.wallSeconds))
            if summary.assembled {
                log("run: wrote \(outDir.path)/index.html and manifest.json")
            } else {
                log("run: \(summary.missing.count) unit(s) of other shards still missing; when all shards finish: filtervis merge \(outDir.path)")
            }
        }
    }
}

/// Turns runner events into progress lines on stderr.
final class ExperimentLog {
    private let label: String
    private var progress: ProgressReporter?

    init(label: String) { self.label = label }

    func handle(_ event: ExperimentRunner.Event) {
        switch event {
        case let .skipped(unit, position, total):
            log("[\(position + 1)/\(total)] \(unit.id): done already, skipped")
        case let .started(unit, position, total):
            log("[\(position + 1)/\(total)] \(unit.id)")
            progress = ProgressReporter(label: "  \(unit.id)")
        case let .step(_, done, total):
            progress?.update(done, of: total)
        case let .finished(_, seconds):
            log(String(format: "  finished in %.1f s", seconds))
        case .assembling:
            log("run: assembling grids, galleries, manifest and report")
        }
    }
}
