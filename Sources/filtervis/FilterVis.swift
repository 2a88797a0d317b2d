import ArgumentParser
import Foundation
import TensorCore

/// The `filtervis` command: the root of every subcommand.
@main
struct FilterVis: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filtervis",
        abstract: "See what the filters of pretrained CNNs (VGG16, AlexNet) respond to.",
        discussion: """
            filtervis is a self-contained Swift toolkit: its own tensors and autograd, its own checkpoint \
            loaders, and image I/O through libpng and libjpeg. It draws images that maximise a filter's \
            activation by gradient ascent on the input, finds the photo patches a filter responds to most, \
            and lays results out in labelled grids.

            Exit status: 0 on success, 1 when an input cannot be used (one line on stderr naming the file \
            and the reason), 2 on a usage error.
            """,
        subcommands: [VisualizeCommand.self, PatchesCommand.self, CardCommand.self, FeatureMapsCommand.self,
                      ForwardCommand.self, RunCommand.self, MergeCommand.self, ImageCommand.self, WeightsCommand.self])

    /// Runs with filtervis's exit codes (see `runCommandLine`).
    static func main() {
        // Optimisation runs allocate and free the same large buffers every step: keep them (about 20% faster).
        // FILTERVIS_ALLOCATOR=memory returns them to the system at once for the lowest peak memory.
        let policy = ProcessInfo.processInfo.environment["FILTERVIS_ALLOCATOR"].flatMap(AllocatorPolicy.init(rawValue:)) ?? .speed
        policy.apply()
        runCommandLine(FilterVis.self)
    }
}
