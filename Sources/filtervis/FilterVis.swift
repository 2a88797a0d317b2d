import ArgumentParser
import Foundation
import Models
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

            Environment: FILTERVIS_CACHE, where weights and photos are cached (default ~/.cache/filtervis). \
            FILTERVIS_ALLOCATOR=speed|memory: keep freed buffers and Winograd weight transforms for reuse (speed, \
            the default; `patches` uses memory unless this is set) or give them back at once (memory: lowest \
            peak). FILTERVIS_CONV=auto|direct: 3x3 convolutions by Winograd F(2x2, 3x3) (auto, the default, \
            about twice as fast) or by direct sums only (to compare with another framework's arithmetic; results \
            differ by float rounding). FILTERVIS_MEMORY_LIMIT=SIZE (bytes, or e.g. 8G, 512M): the memory budget; \
            sizes whose estimated memory exceeds it are refused before any work, naming the largest that fits \
            (default and upper bound: 75% of this machine's memory).
            """,
        subcommands: [VisualizeCommand.self, PatchesCommand.self, CardCommand.self, FeatureMapsCommand.self,
                      ForwardCommand.self, ClassifyCommand.self, LayersCommand.self, RunCommand.self, MergeCommand.self, ImageCommand.self, WeightsCommand.self])

    /// Runs with filtervis's exit codes (see `runCommandLine`).
    static func main() {
        let environment = ProcessInfo.processInfo.environment
        _ = environmentChoice("FILTERVIS_ALLOCATOR", environment, default: AllocatorPolicy.speed)
        _ = environmentChoice("FILTERVIS_CONV", environment, default: ConvAlgorithm.automatic)
        // Optimisation runs allocate and free the same large buffers every step: keep them (about 20% faster).
        // FILTERVIS_ALLOCATOR=memory returns them to the system at once for the lowest peak memory.
        CommandEnvironment.current.apply(preferredAllocator: .speed)
        if let limit = environment["FILTERVIS_MEMORY_LIMIT"], !limit.isEmpty {
            do { _ = try MemoryBudget.parse(limit) } catch {
                printError("filtervis: error: \(error)")
                Foundation.exit(2)
            }
        }
        CommandEnvironment.current.settings.run { runCommandLine(FilterVis.self) }
    }

    /// The value of an environment variable that names one of `T`'s cases, `fallback` when unset or empty; any
    /// other value is a usage error (exit 2) that lists the accepted ones.
    static func environmentChoice<T: RawRepresentable & CaseIterable>(_ name: String, _ environment: [String: String],
                                                                        default fallback: T) -> T where T.RawValue == String {
        guard let text = environment[name], !text.isEmpty else { return fallback }
        if let value = T(rawValue: text) { return value }
        let accepted = T.allCases.map(\.rawValue).joined(separator: ", ")
        printError("filtervis: error: \(name)=\(text) is not one of: \(accepted) (unset it for the default, \(fallback.rawValue))")
        Foundation.exit(2)
    }
}
