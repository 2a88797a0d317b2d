import Foundation

/// Winograd-transformed convolution weights (16 packed U_ξ matrices), made once per weights array and reused.
///
/// Activation maximisation runs thousands of steps through the same weights, and transforming VGG16's 512 x 512
/// layers costs about as much as the convolution itself at batch 1, so transforms are cached. The cache key is
/// the `WeightsIdentity` the weights' owner gives them (a network names each conv's weights and the rows it
/// keeps); weights without an identity are transformed for each call.
final class TransformedWeights {
    /// Rows (output channels of the convolution computed with these weights) and depth (its input channels).
    let outputs: Int, channels: Int
    /// True for the weights of the input-gradient convolution (flipped, input and output channels swapped).
    let flipped: Bool
    let data: UnsafeMutablePointer<Float>
    let bytes: Int
    /// The weights the transform was made from (nil for an uncached transform).
    fileprivate let identity: WeightsIdentity?
    /// Where an uncached transform lives: a scratch buffer, handed back when this is dropped.
    private let scratch: ScratchPool.Buffer?

    static func floats(outputs: Int, channels: Int) -> Int { 16 * PackedA.count(m: outputs, k: channels) }

    fileprivate init(outputs: Int, channels: Int, flipped: Bool, identity: WeightsIdentity?,
                     make: (UnsafeMutablePointer<Float>) -> Void) {
        self.outputs = outputs
        self.channels = channels
        self.flipped = flipped
        self.identity = identity
        let count = Self.floats(outputs: outputs, channels: channels)
        bytes = count * MemoryLayout<Float>.stride
        if identity == nil {
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

    fileprivate func matches(_ identity: WeightsIdentity, outputs: Int, channels: Int, flipped: Bool) -> Bool {
        self.identity == identity && self.outputs == outputs && self.channels == channels && self.flipped == flipped
    }
}

/// The process-wide cache of transformed weights, least recently used first out.
public enum TransformedWeightCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [TransformedWeights] = []

    /// The most memory the cache keeps (bytes), from the `ComputeSettings` in force; 0 turns caching off (every
    /// convolution transforms its weights). A caller with a lower budget evicts down to it when it adds an entry.
    static var budget: Int { max(0, ComputeSettings.current.transformCacheBytes) }

    /// Bytes held now.
    public static var bytesHeld: Int { lock.withLock { entries.reduce(0) { $0 + $1.bytes } } }

    /// Whether the transform of the weights called `identity` (for an `outputs` x `channels` convolution) is cached.
    static func contains(_ identity: WeightsIdentity, outputs: Int, channels: Int, flipped: Bool) -> Bool {
        lock.withLock { entries.contains { $0.matches(identity, outputs: outputs, channels: channels, flipped: flipped) } }
    }

    /// Drops every entry.
    public static func removeAll() { lock.withLock { entries.removeAll() } }

    /// The transform of the weights called `identity` for an `outputs` x `channels` convolution: a cached one if
    /// they were transformed before, else a new one made by `make` (and cached when `identity` is given and it
    /// fits the budget).
    static func transformed(_ identity: WeightsIdentity?, outputs: Int, channels: Int, flipped: Bool,
                            make: (UnsafeMutablePointer<Float>) -> Void) -> TransformedWeights {
        let bytes = TransformedWeights.floats(outputs: outputs, channels: channels) * MemoryLayout<Float>.stride
        let budget = Self.budget
        guard let identity, bytes <= budget else {
            return TransformedWeights(outputs: outputs, channels: channels, flipped: flipped, identity: nil, make: make)
        }
        if let hit = lock.withLock({ () -> TransformedWeights? in
            guard let i = entries.firstIndex(where: { $0.matches(identity, outputs: outputs, channels: channels, flipped: flipped) })
            else { return nil }
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry
        }) {
            return hit
        }
        let made = TransformedWeights(outputs: outputs, channels: channels, flipped: flipped, identity: identity, make: make)
        lock.withLock {
            if made.bytes <= budget {
                entries.append(made)
                evictOverBudget(budget)
            }
        }
        return made
    }

    /// Call with the lock held.
    private static func evictOverBudget(_ budget: Int) {
        var held = entries.reduce(0) { $0 + $1.bytes }
        while held > budget, !entries.isEmpty { held -= entries.removeFirst().bytes }
    }
}
