import Dispatch

/// The worker-thread count and the one parallel loop every kernel uses.
///
/// Work is always split by *output*: each index of `parallelFor` owns a disjoint part of the result, and every
/// sum runs in the same order whatever the thread count, so results are bit-identical on 1 or N threads.
public enum Parallel {
    /// Threads used by kernels: the `ComputeSettings` in force, else one per processor.
    public static var threads: Int { max(1, ComputeSettings.current.threads ?? defaultThreads) }

    /// Runs `body` with kernels using `count` threads (a `ComputeSettings` scope).
    public static func withThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        precondition(count >= 1, "Parallel.withThreads: thread count must be at least 1, got \(count)")
        return try ComputeSettings.with({ $0.threads = count }, body)
    }

    static let defaultThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Calls `body(chunk)` for `chunks` disjoint chunks `0..<chunks`, on up to `threads` threads.
    ///
    /// The caller decides what a chunk owns (rows, channels, images); the result must not depend on which
    /// thread runs which chunk.
    public static func forEach(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 0 { return }
        let workers = min(threads, chunks)
        if workers <= 1 {
            for i in 0..<chunks { body(i) }
            return
        }
        // Chunks are handed out one at a time, so a thread that finishes early takes the next one (uneven chunks
        // and a busy core balance out). Which thread runs a chunk does not matter: chunks own disjoint outputs.
        let next = ChunkCounter()
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while let i = next.take(below: chunks) { body(i) }
            }
        }
    }

    /// Splits `0..<count` into contiguous ranges of at least `grain` elements and runs `body` on each.
    public static func forRanges(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let pieces = max(1, min(threads * 4, count / max(grain, 1)))
        if pieces == 1 { body(0..<count); return }
        let size = (count + pieces - 1) / pieces
        forEach(pieces) { p in
            let lo = p * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }
}

import Foundation

/// A shared counter handing out chunk indices.
private final class ChunkCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
