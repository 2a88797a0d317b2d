import ArgumentParser

// Minimal root for the checkpoints branch; the lead merges the full root command.
@main
struct FilterVis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filtervis",
        abstract: "What the filters of convolutional networks respond to.",
        subcommands: [VisualizeCommand.self, WeightsCommand.self, RunCommand.self, MergeCommand.self, FeatureMapsCommand.self])
}
