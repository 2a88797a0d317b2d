import ArgumentParser
import Experiments
import FileOutput
import Foundation
import Visualization

/// `filtervis merge`: assembles an experiment whose units were computed by several shards.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Assemble a sharded experiment's outputs once every shard has finished.",
        discussion: """
        Reads OUT/config.json (written by `filtervis run`), checks that every unit has a current done-record,
        merges the patch searches exactly (PatchSearch.merge) and writes the grids, galleries, manifest.json and
        the report: the same bytes as one unsharded run, apart from manifest.json's `timings`.
        """)

    @Argument(help: "The experiment's output folder (e.g. Outputs/alexnet-all).")
    var folder: String

    @Option(help: "Weights file to use instead of the cached import.")
    var weights: String?

    func run() throws {
        try runReportingErrors(usageErrors: false) {
            let dir = URL(fileURLWithPath: folder, isDirectory: true)
            let configFile = dir.appendingPathComponent("config.json")
            guard let data = FileManager.default.contents(atPath: configFile.path) else {
                throw CLIError.notAnExperiment(config: configFile.path)
            }
            // The type and JSON convention `run` wrote it with.
            let config = try OutputJSON.decode(ExperimentConfig.self, from: data, file: configFile.path)
            let network = try WeightsFetcher.loadNetwork(model: config.model, weights: weights)
            let plan = try ExperimentPlan(config: config, network: network, file: configFile.path)
            let runner = ExperimentRunner(plan: plan, output: dir)
            let missing = try runner.missingUnits()
            if !missing.isEmpty {
                throw CLIError.unitsNotDone(folder: folder, missing: missing.map(\.id), total: plan.units.count)
            }
            // Under the folder's lock, so a shard still assembling is waited for; always rewritten (an explicit merge).
            let start = Date()
            try runner.assemble(force: true, invocationStart: start) { event in
                if case let .waitingForAssembler(holder) = event { log("merge: waiting for \(holder), which is assembling the report") }
            }
            log(String(format: "merge: assembled %d unit(s) into %@/index.html and manifest.json in %.1f s", plan.units.count, dir.path, Date().timeIntervalSince(start)))
        }
    }
}
