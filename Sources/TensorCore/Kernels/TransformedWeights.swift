import Foundation

/// Winograd-transformed convolution weights (16 packed U_ξ matrices), made once per weights array and reused.
///
/// Activation maximisation runs thousands of steps through the same weights, and transforming VGG16's 512 x 512
/// layers costs about as much as the convolution itself at batch 1, so transforms are cached. The cache key is
/// the weights array itself: an entry keeps a reference to the array it was made from, so while the entry lives
/// that buffer can neither be freed nor changed in place (a write to a shared array copies it first), and a
/// caller's array with the same buffer address holds exactly the same values.
final class TransformedWeights {
    /// Rows (output channels of the convolution computed with these weights) and depth (its input channels).
    let outputs: Int, channels: Int
    /// True for the weights of the input-gradient convolution (flipped, input and output channels swapped).
    let flipped: Bool
    let data: UnsafeMutablePointer<Float>
    let bytes: Int
    /// The array the transform was made from (nil for an uncached transform).
    fileprivate let source: [Float]?
    /// Where an uncached transform lives: a scratch buffer, handed back when this is dropped.
    private let scratch: ScratchPool.Buffer?

    static func floats(outputs: Int, channels: Int) -> Int { 16 * PackedA.count(m: outputs, k: channels) }

    fileprivate init(outputs: Int, channels: Int, flipped: Bool, source: [Float]?,
                     make: (UnsafeMutablePointer<Float>) -> Void) {
        self.outputs = outputs
        self.channels = channels
        self.flipped = flipped
        self.source = source
        let count = Self.floats(outputs: outputs, channels: channels)
        bytes = count * MemoryLayout<Float>.stride
        if source == nil {
            let buffer = ScratchPool.take(count)
            scratch = buffer
            data = buffer.base
        } else {
            scratch = nil
            data = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: count)
        }
        make(data)
    }

    deinit {
        if let scratch { ScratchPool.give(scratch) } else { data.deallocate() }
    }

    fileprivate func matches(_ array: [Float], outputs: Int, channels: Int, flipped: Bool) -> Bool {
        guard let source, self.outputs == outputs, self.channels == channels, self.flipped == flipped,
              source.count == array.count else { return false }
        return source.withUnsafeBufferPointer { a in array.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}

/// The process-wide cache of transformed weights, least recently used first out.
public enum TransformedWeightCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [TransformedWeights] = []
    nonisolated(unsafe) private static var budget = defaultBudget

    /// 512 MiB: every 3x3 layer of VGG16, forward and input-gradient transforms (about 210 MiB), with room to spare.
    public static let defaultBudget = 512 << 20

    /// The most memory the cache keeps (bytes); 0 turns caching off (every convolution transforms its weights).
    /// Lowering it evicts at once.
    public static var budgetBytes: Int {
        get { lock.withLock { budget } }
        set {
            precondition(newValue >= 0, "TransformedWeightCache.budgetBytes must be >= 0, got \(newValue)")
            lock.withLock { budget = newValue; evictOverBudget() }
        }
    }

    /// Bytes held now.
    public static var bytesHeld: Int { lock.withLock { entries.reduce(0) { $0 + $1.bytes } } }

    /// Whether the transform of these very weights (for an `outputs` x `channels` convolution) is cached.
    static func contains(_ source: [Float], outputs: Int, channels: Int, flipped: Bool) -> Bool {
        lock.withLock { entries.contains { $0.matches(source, outputs: outputs, channels: channels, flipped: flipped) } }
    }

    /// Drops every entry (and with them the references to the weights they were made from).
    public static func removeAll() { lock.withLock { entries.removeAll() } }

    /// The transform of `source` (or of the weights behind it) for an `outputs` x `channels` convolution: a
    /// cached one if these very weights were transformed before, else a new one made by `make` (and cached
    /// when `source` is given and it fits the budget).
    static func transformed(_ source: [Float]?, outputs: Int, channels: Int, flipped: Bool,
                            make: (UnsafeMutablePointer<Float>) -> Void) -> TransformedWeights {
        let bytes = TransformedWeights.floats(outputs: outputs, channels: channels) * MemoryLayout<Float>.stride
        guard let source, bytes <= lock.withLock({ budget }) else {
            return TransformedWeights(outputs: outputs, channels: channels, flipped: flipped, source: nil, make: make)
        }
        if let hit = lock.withLock({ () -> TransformedWeights? in
            guard let i = entries.firstIndex(where: { $0.matches(source, outputs: outputs, channels: channels, flipped: flipped) })
            else { return nil }
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry
        }) {
            return hit
        }
        let made = TransformedWeights(outputs: outputs, channels: channels, flipped: flipped, source: source, make: make)
        lock.withLock {
            if made.bytes <= budget {
                entries.append(made)
                evictOverBudget()
            }
        }
        return made
    }

    /// Call with the lock held.
    private static func evictOverBudget() {
        var held = entries.reduce(0) { $0 + $1.bytes }
        while held > budget, !entries.isEmpty { held -= entries.removeFirst().bytes }
    }
}
