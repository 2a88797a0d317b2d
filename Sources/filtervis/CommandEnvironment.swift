import Foundation
import TensorCore

/// The settings the environment gives every command (FILTERVIS_CONV, FILTERVIS_ALLOCATOR), read once at start and
/// applied as one `ComputeSettings` scope around the whole command; a command's own options (--threads) nest a
/// scope inside it. Nothing here is a mutable global: the kernels read only the scope in force.
struct CommandEnvironment {
    /// FILTERVIS_ALLOCATOR when set; nil lets each command choose (most: speed; patches: memory).
    let allocator: AllocatorPolicy?
    let convolution: ConvAlgorithm

    /// The environment of this process; bad values are refused by `FilterVis.main` before any command runs.
    static let current = CommandEnvironment(ProcessInfo.processInfo.environment)

    init(_ environment: [String: String]) {
        allocator = environment["FILTERVIS_ALLOCATOR"].flatMap(AllocatorPolicy.init(rawValue:))
        convolution = environment["FILTERVIS_CONV"].flatMap(ConvAlgorithm.init(rawValue:)) ?? .automatic
    }

    /// The kernels' settings: the memory policy, when asked for by name, also stops caching weight transforms.
    var settings: ComputeSettings {
        ComputeSettings(convolution: convolution,
                        transformCacheBytes: allocator == .memory ? 0 : ComputeSettings.defaultTransformCacheBytes)
    }

    /// Sets the process's heap policy (the one setting that is process-wide by nature): FILTERVIS_ALLOCATOR when
    /// set, else the command's preference.
    func apply(preferredAllocator: AllocatorPolicy) {
        (allocator ?? preferredAllocator).apply()
    }
}
