import Testing
@testable import TensorCore

/// The engine computes only a batch's filters at its last conv, and each image reads only its own filter. So for a
/// filter's bytes not to depend on its batch, one image's conv output channel and its input gradient must have the
/// same bits whichever other output channels are computed beside it (1, a tail batch's 5, a full batch's 16, all),
/// whichever other images share the call, and on any thread count. Normal data, so a different summation order or
/// algorithm would show in the low bits (on small integers both paths are exact and could not tell).
@Suite(.serialized) struct BatchIndependenceTests {
    struct Layer: CustomStringConvertible, Sendable {
        var channels: Int, outputs: Int, kernel: Int, stride: Int, pad: Int, size: Int
        var description: String { "\(channels)->\(outputs) \(kernel)x\(kernel)/\(stride) pad \(pad) at \(size)px" }
    }

    /// A Winograd layer (3x3/1, 64 in), the direct 3x3 of a first layer (3 in), a 5x5 and a strided 11x11.
    static let layers: [Layer] = [
        Layer(channels: 64, outputs: 24, kernel: 3, stride: 1, pad: 1, size: 14),
        Layer(channels: 3, outputs: 20, kernel: 3, stride: 1, pad: 1, size: 17),
        Layer(channels: 24, outputs: 18, kernel: 5, stride: 1, pad: 2, size: 13),
        Layer(channels: 3, outputs: 17, kernel: 11, stride: 4, pad: 2, size: 35),
    ]

    static func normal(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.randomNormal(shape: shape, mean: 0, std: std, using: &rng)
    }

    static func rows(_ t: Tensor, _ rows: [Int]) -> Tensor {
        let size = t.count / t.shape[0]
        return Tensor(shape: [rows.count] + t.shape.dropFirst(), storage: rows.flatMap { t.storage[($0 * size)..<(($0 + 1) * size)] })
    }

    /// For images `images` (indices into a fixed pool) each reading filter `filters[i]`, with the conv restricted to
    /// `computed` output channels: per image, its filter's output plane and the input gradient of that plane's sum.
    static func run(_ l: Layer, images: [Int], filters: [Int], computed: [Int], relu: Bool, threads: Int)
        -> [(plane: [Float], dx: [Float])] {
        let pool = normal([6, l.channels, l.size, l.size], seed: 11)
        let w = normal([l.outputs, l.channels, l.kernel, l.kernel], seed: 12,
                       std: 1 / Float(l.channels * l.kernel * l.kernel).squareRoot())
        let b = normal([l.outputs], seed: 13, std: 0.1)
        let per = l.channels * l.size * l.size
        let x = Tensor(shape: [images.count, l.channels, l.size, l.size],
                       storage: images.flatMap { pool.storage[($0 * per)..<(($0 + 1) * per)] })
        x.requiresGrad = true
        return Parallel.withThreads(threads) {
            let wr = rows(w, computed), br = rows(b, computed)
            let y = relu ? conv2dReLU(x, weight: wr, bias: br, stride: l.stride, padding: .explicit(l.pad, l.pad))
                         : conv2d(x, weight: wr, bias: br, stride: l.stride, padding: .explicit(l.pad, l.pad))
            let plane = y.shape[2] * y.shape[3]
            // The seed the objective hands back: d(sum of own filter's plane) = 1 there, 0 on every other channel.
            var seed = [Float](repeating: 0, count: y.count)
            for (i, f) in filters.enumerated() {
                let c = computed.firstIndex(of: f)!
                for j in 0..<plane { seed[(i * computed.count + c) * plane + j] = 1 }
            }
            y.backward(seed: Tensor(shape: y.shape, storage: seed))
            return filters.enumerated().map { i, f in
                let c = computed.firstIndex(of: f)!
                let p = Array(y.storage[((i * computed.count + c) * plane)..<((i * computed.count + c + 1) * plane)])
                return (p, Array(x.grad!.storage[(i * per)..<((i + 1) * per)]))
            }
        }
    }

    /// Where two results first differ in their bits ("index: a vs b"), nil when they are identical.
    static func firstDifference(_ a: [Float], _ b: [Float]) -> String? {
        guard a.count == b.count else { return "\(a.count) values vs \(b.count)" }
        guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
        return "value \(i) of \(a.count): \(a[i]) vs \(b[i])"
    }

    @Test("A filter's conv output and input gradient have the same bits alone, in a tail batch, a full batch and the whole layer",
          arguments: layers)
    func sameBitsWhateverShares(_ l: Layer) {
        for relu in [false, true] {
            // Image 2 reading filter 5: alone; in a tail batch of 5 filters; in a batch of 16 (two images); the full layer.
            let alone = Self.run(l, images: [2], filters: [5], computed: [5], relu: relu, threads: 1)[0]
            let tail = Self.run(l, images: [0, 2, 4], filters: [3, 5, 7], computed: [3, 4, 5, 6, 7], relu: relu, threads: 2)[1]
            let full = Self.run(l, images: [2, 1], filters: [5, 0], computed: Array(0..<16), relu: relu, threads: 3)[0]
            let layer = Self.run(l, images: [3, 5, 2], filters: [1, 9, 5], computed: Array(0..<l.outputs), relu: relu, threads: 2)[2]
            for (name, other) in [("tail batch", tail), ("full batch", full), ("whole layer", layer)] {
                #expect(Self.firstDifference(other.plane, alone.plane) == nil, "\(l) relu \(relu): forward differs in a \(name)")
                #expect(Self.firstDifference(other.dx, alone.dx) == nil, "\(l) relu \(relu): input gradient differs in a \(name)")
            }
        }
    }

    @Test("Same bits on 1, 2, 3 and 5 threads", arguments: [layers[0], layers[3]])
    func sameBitsOnAnyThreadCount(_ l: Layer) {
        let reference = Self.run(l, images: [0, 1, 2, 3, 4], filters: [0, 1, 2, 3, 4], computed: [0, 1, 2, 3, 4],
                                 relu: true, threads: 1)
        for threads in [2, 3, 5] {
            let other = Self.run(l, images: [0, 1, 2, 3, 4], filters: [0, 1, 2, 3, 4], computed: [0, 1, 2, 3, 4],
                                 relu: true, threads: threads)
            for i in 0..<5 {
                #expect(Self.firstDifference(other[i].plane, reference[i].plane) == nil, "\(l), \(threads) threads, image \(i)")
                #expect(Self.firstDifference(other[i].dx, reference[i].dx) == nil, "\(l), \(threads) threads, image \(i)")
            }
        }
    }
}
