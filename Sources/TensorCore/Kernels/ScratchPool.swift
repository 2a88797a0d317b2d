import Foundation

/// Large scratch buffers kept for reuse between kernel calls, at most `keptBytes` in all.
///
/// A VGG16 layer asks for the same few workspace sizes (packed weights, Winograd tiles) on every call; with the
/// memory allocator policy each would otherwise be a fresh mmap whose pages the kernel faults in and zeroes
/// (a third of a patch pass's time, measured with perf). Contents are uninitialised, as from malloc.
enum ScratchPool {
    /// Requests of at least this many floats (1 MiB) come from the pool.
    static let minimumFloats = 1 << 18
    /// Bytes kept between calls at most; the smallest buffers are freed first beyond it.
    static let keptBytes = 64 << 20

    final class Buffer {
        let base: UnsafeMutablePointer<Float>
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Float>.stride, alignment: 64)
                .bindMemory(to: Float.self, capacity: capacity)
        }
        var bytes: Int { capacity * MemoryLayout<Float>.stride }
        deinit { base.deallocate() }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Buffer] = []

    /// The smallest kept buffer of at least `count` floats, or a new one (rounded up to whole MiB so that
    /// similar sizes share buffers).
    static func take(_ count: Int) -> Buffer {
        let found = lock.withLock { () -> Buffer? in
            guard let i = free.indices.filter({ free[$0].capacity >= count }).min(by: { free[$0].capacity < free[$1].capacity })
            else { return nil }
            return free.remove(at: i)
        }
        return found ?? Buffer(capacity: GEMM.roundUp(count, minimumFloats))
    }

    /// Returns a buffer taken with `take`.
    static func give(_ buffer: Buffer) {
        lock.withLock {
            free.append(buffer)
            var held = free.reduce(0) { $0 + $1.bytes }
            while held > keptBytes, let smallest = free.indices.min(by: { free[$0].capacity < free[$1].capacity }) {
                held -= free.remove(at: smallest).bytes
            }
        }
    }
}
