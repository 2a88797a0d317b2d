import ArgumentParser
import Experiments
import FileOutput
import Foundation
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
        the same bytes as one unsharded run (timings apart). Shards that finish together assemble it once, under
        the folder's lock (.assembly.lock); the others leave the finished report as it is.

        With --plan nothing runs: the units, their shards (--shards N) and an estimated wall time from a short
        calibration on this machine are printed.

        Examples:
          filtervis run Experiments/lecture-vgg16.json5
          filtervis run Experiments/atlas-vgg16.json5 --plan --shards 16
          filtervis run Experiments/alexnet-all.json5 --shard $SLURM_ARRAY_TASK_ID/8 && filtervis merge Outputs/alexnet-all
        """)

    @Argument(help: "The experiment config (.json5).")
    var config: String

    @Option(help: "Run only shard i of n (i/n, 0-based): units whose index mod n is i.")
    var shard: String?

    @Option(help: "Output folder (default: Outputs/NAME).")
    var out: String?

    @OptionGroup var threading: ThreadsOption

    @Option(help: "Weights file to use instead of the cached import.")
    var weights: String?

    @Flag(help: "Print the units, the shards they fall into and an estimated wall time (from a short calibration on this machine), then stop; nothing is written.")
    var plan = false

    @Option(help: "With --plan: show the split into N shards (default: --shard's n, else 1).")
    var shards: Int?

    func validate() throws {
        if let shard {
            do { _ = try Shard(parsing: shard) } catch { throw ValidationError("\(error)") }
        }
        if let shards {
            guard plan else { throw ValidationError("--shards only goes with --plan (to run a shard, use --shard i/n)") }
            guard shards >= 1 else { throw ValidationError("--shards must be at least 1, got \(shards)") }
        }
    }

    func run() throws {
        try runReportingErrors(usageErrors: false) {
            let experiment = try ExperimentConfig.load(URL(fileURLWithPath: config), displayName: config)
            let shard = try shard.map(Shard.init(parsing:)) ?? .whole
            let outDir = URL(fileURLWithPath: out ?? "Outputs/\(experiment.name)", isDirectory: true)
            try ComputeSettings.with({ $0.threads = threading.threads ?? experiment.threads }) {
                let network = try WeightsFetcher.loadNetwork(model: experiment.model, weights: weights)
                let plan = try ExperimentPlan(config: experiment, network: network, file: config)
                if self.plan {
                    try PlanPrinter(plan: plan, shards: shards ?? (self.shard == nil ? 1 : shard.count), marked: self.shard == nil ? nil : shard).print()
                    return
                }
                // Created only once the config resolves (layers, filters, photos), so a bad one leaves no folder.
                try OutputFolder.prepare(outDir)
                let runner = ExperimentRunner(plan: plan, output: outDir)
                let mine = plan.units.indices.filter { shard.owns(position: $0) }.count
                log("run: \(experiment.name): \(plan.units.count) unit(s), \(mine) in shard \(shard), \(Parallel.threads) thread(s) -> \(outDir.path)")
                let summary = try runner.run(shard: shard, onEvent: ExperimentLog(label: experiment.name, plan: plan, shard: shard).handle)
                log(String(format: "run: computed %d unit(s), %d already done, in %.1f s", summary.computed.count, summary.skipped.count, summary.wallSeconds))
                if summary.wroteReport {
                    log("run: wrote \(outDir.path)/index.html and manifest.json")
                } else if summary.assembled {
                    log("run: the report in \(outDir.path) is already assembled from these units (by another shard); left as it is")
                } else {
                    log("run: \(summary.missing.count) unit(s) of other shards still missing; when all shards finish: filtervis merge \(outDir.path)")
                }
            }
        }
    }
}

/// Turns runner events into progress lines on stderr.
final class ExperimentLog {
    private let label: String
    private var progress: ProgressReporter?
    private let run: RunProgress

    init(label: String, plan: ExperimentPlan, shard: Shard) {
        self.label = label
        let mine = plan.units.enumerated().filter { shard.owns(position: $0.offset) }.map(\.element)
        run = RunProgress(units: mine.map { ($0.id, WorkModel.work($0, plan: plan)) })
    }

    func handle(_ event: ExperimentRunner.Event) {
        switch event {
        case let .skipped(unit, position, total):
            log("[\(position + 1)/\(total)] \(unit.id): done already, skipped")
            run.skip(unit.id)
        case let .started(unit, position, total):
            log("[\(position + 1)/\(total)] \(unit.id)")
            progress = ProgressReporter(label: "  \(unit.id)")
        case let .step(_, done, total):
            progress?.update(done, of: total)
        case let .finished(unit, seconds):
            log(String(format: "  finished in %.1f s", seconds))
            let (filters, photos) = WorkModel.images(unit)
            log(run.finish(unit.id, seconds: seconds, filters: filters, photos: photos))
        case let .waitingForAssembler(holder):
            log("run: waiting for \(holder), which is assembling the report")
        case .assembling:
            log("run: assembling grids, galleries, manifest and report")
        case .reportCurrent:
            break
        }
    }
}
