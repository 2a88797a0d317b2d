import TensorCore

// Small differentiable ops the engine needs, where each image of a batch has its own filter or offset.

/// Picks one channel per image: out[b] = x[b, channels[b]], (N, C, H, W) -> (N, H, W); a vector (N, C) (logits,
/// a linear layer) is read as (N, C, 1, 1).
func channelPlanes(_ x: Tensor, channels: [Int]) -> Tensor {
    if x.rank == 2 { return channelPlanes(reshape(x, [x.shape[0], x.shape[1], 1, 1]), channels: channels) }
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(channels.count == n, "channelPlanes: \(channels.count) channels for a batch of \(n)")
    precondition(channels.allSatisfy { $0 >= 0 && $0 < c }, "channelPlanes: channel out of range 0..<\(c): \(channels)")
    let plane = h * w
    var out = [Float](repeating: 0, count: n * plane)
    for b in 0..<n {
        let src = (b * c + channels[b]) * plane
        for i in 0..<plane { out[b * plane + i] = x.storage[src + i] }
    }
    return Tensor.result(op: "channel_planes", shape: [n, h, w], storage: out, inputs: [x]) { g in
        var gx = [Float](repeating: 0, count: n * c * plane)
        for b in 0..<n {
            let dst = (b * c + channels[b]) * plane
            for i in 0..<plane { gx[dst + i] = g.storage[b * plane + i] }
        }
        return [Tensor(shape: [n, c, h, w], storage: gx)]
    }
}

/// The inverse view of a channel selection: x (N, k, H, W) holds channels `channels` (k of them) of a
/// `count`-channel map; out (N, count, H, W) puts x[:, j] at channel `channels[j]` and zeros elsewhere.
func scatterChannels(_ x: Tensor, channels: [Int], count: Int) -> Tensor {
    let (n, k, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(channels.count == k, "scatterChannels: \(channels.count) channel indices for \(k) channels")
    precondition(channels.allSatisfy { $0 >= 0 && $0 < count }, "scatterChannels: channel out of range 0..<\(count): \(channels)")
    let plane = h * w
    var out = [Float](repeating: 0, count: n * count * plane)
    for b in 0..<n {
        for (j, c) in channels.enumerated() {
            let src = (b * k + j) * plane, dst = (b * count + c) * plane
            for i in 0..<plane { out[dst + i] = x.storage[src + i] }
        }
    }
    return Tensor.result(op: "scatter_channels", shape: [n, count, h, w], storage: out, inputs: [x]) { g in
        // d/dx gathers the same planes back.
        var gx = [Float](repeating: 0, count: n * k * plane)
        for b in 0..<n {
            for (j, c) in channels.enumerated() {
                let src = (b * count + c) * plane, dst = (b * k + j) * plane
                for i in 0..<plane { gx[dst + i] = g.storage[src + i] }
            }
        }
        return [Tensor(shape: [n, k, h, w], storage: gx)]
    }
}

/// Mixes the 3 colour channels of every pixel by `matrix` (row-major 3x3): out[c] = sum_k m[c][k] * x[k].
func mixColorChannels(_ x: Tensor, matrix m: [Float]) -> Tensor {
    precondition(x.rank == 4 && x.shape[1] == 3 && m.count == 9, "mixColorChannels: expected (N, 3, H, W) and a 3x3 matrix, got \(x.shape)")
    let n = x.shape[0], plane = x.shape[2] * x.shape[3]
    func apply(_ v: [Float], _ mat: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for b in 0..<n {
            let base = b * 3 * plane
            for c in 0..<3 {
                let (m0, m1, m2) = (mat[c * 3], mat[c * 3 + 1], mat[c * 3 + 2])
                for i in 0..<plane {
                    out[base + c * plane + i] = m0 * v[base + i] + m1 * v[base + plane + i] + m2 * v[base + 2 * plane + i]
                }
            }
        }
        return out
    }
    let transposed = [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]
    return Tensor.result(op: "mix_color_channels", shape: x.shape, storage: apply(x.storage, m), inputs: [x]) { g in
        [Tensor(shape: g.shape, storage: apply(g.storage, transposed))]
    }
}

/// Crops each image at its own offset: out[b] = x[b, :, top[b] ..< top[b]+height, left[b] ..< left[b]+width].
func cropEach(_ x: Tensor, tops: [Int], lefts: [Int], height: Int, width: Int) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(tops.count == n && lefts.count == n, "cropEach: offsets for \(tops.count) images, batch has \(n)")
    precondition(zip(tops, lefts).allSatisfy { $0 >= 0 && $1 >= 0 && $0 + height <= h && $1 + width <= w },
                 "cropEach: a \(height)x\(width) crop at the given offsets leaves the \(h)x\(w) image")
    var out = [Float](repeating: 0, count: n * c * height * width)
    for b in 0..<n {
        for ch in 0..<c {
            for y in 0..<height {
                let src = ((b * c + ch) * h + tops[b] + y) * w + lefts[b]
                let dst = ((b * c + ch) * height + y) * width
                for xx in 0..<width { out[dst + xx] = x.storage[src + xx] }
            }
        }
    }
    return Tensor.result(op: "crop_each", shape: [n, c, height, width], storage: out, inputs: [x]) { g in
        var gx = [Float](repeating: 0, count: n * c * h * w)
        for b in 0..<n {
            for ch in 0..<c {
                for y in 0..<height {
                    let dst = ((b * c + ch) * h + tops[b] + y) * w + lefts[b]
                    let src = ((b * c + ch) * height + y) * width
                    for xx in 0..<width { gx[dst + xx] = g.storage[src + xx] }
                }
            }
        }
        return [Tensor(shape: [n, c, h, w], storage: gx)]
    }
}
