/// How the kernels run: one value, applied to a task-local scope with `run`, never a process-wide variable, so two
/// callers in one process (a server's jobs, concurrent tests) never see each other's settings.
///
/// None of these change a result's bits but `convolution` (Winograd and direct sums round differently); every
/// parallel loop is split by output, so `threads` never does.
public struct ComputeSettings: Sendable, Equatable {
    /// Kernel worker threads; nil: one per processor.
    public var threads: Int?
    /// How 3x3 and depthwise convolutions are computed.
    public var convolution: ConvAlgorithm
    /// Bytes the Winograd weight-transform cache may hold (`TransformedWeightCache`); 0 transforms on every call.
    public var transformCacheBytes: Int

    /// 512 MiB: every 3x3 layer of VGG16, forward and input-gradient transforms (about 210 MiB), with room to spare.
    public static let defaultTransformCacheBytes = 512 << 20

    public init(threads: Int? = nil, convolution: ConvAlgorithm = .automatic,
                transformCacheBytes: Int = ComputeSettings.defaultTransformCacheBytes) {
        self.threads = threads
        self.convolution = convolution
        self.transformCacheBytes = transformCacheBytes
    }

    /// What a problem with a setting is; the CLI turns it into a usage error.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case threads(Int)
        case transformCacheBytes(Int)
        public var description: String {
            switch self {
            case let .threads(n): return "the thread count must be at least 1, got \(n)"
            case let .transformCacheBytes(n): return "the transform cache budget must be 0 or more bytes, got \(n)"
            }
        }
    }

    /// Refuses values no kernel can run with.
    public func validate() throws {
        if let threads, threads < 1 { throw Problem.threads(threads) }
        if transformCacheBytes < 0 { throw Problem.transformCacheBytes(transformCacheBytes) }
    }

    @TaskLocal private static var scoped = ComputeSettings()

    /// The settings in force: the innermost `run` scope's, else the defaults.
    public static var current: ComputeSettings { scoped }

    /// Runs `body` with these settings in force (and restores the outer ones after).
    public func run<T>(_ body: () throws -> T) rethrows -> T {
        try Self.$scoped.withValue(self) { try body() }
    }

    /// Runs `body` with the current settings changed by `change`.
    public static func with<T>(_ change: (inout ComputeSettings) -> Void, _ body: () throws -> T) rethrows -> T {
        var settings = current
        change(&settings)
        return try settings.run(body)
    }
}
