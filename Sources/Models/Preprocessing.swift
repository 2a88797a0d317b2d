import TensorCore

/// How a network expects its input, applied inside the model so callers work in plain RGB in [0, 1].
///
/// The op is differentiable, so the visualiser optimises ordinary RGB images and saves them as they are.
public enum Preprocessing: String, Sendable, CaseIterable, Codable {
    /// Oxford/Keras (Caffe) VGG16: BGR order, 0..255, minus the BGR mean [103.939, 116.779, 123.68], no std.
    case caffe
    /// torchvision: RGB, /255, minus mean [0.485, 0.456, 0.406], divided by std [0.229, 0.224, 0.225].
    case torchvision
    /// TensorFlow's EfficientNet-Lite (the checkpoints' origin): RGB, (255 x - 127) / 128.
    case efficientNetLite = "efficientnet-lite"

    /// For each model input channel: which RGB channel it reads, the scale, and the shift (y = x * scale + shift).
    var channelMaps: [(source: Int, scale: Float, shift: Float)] {
        switch self {
        case .caffe:
            // B, G, R from an RGB image in [0,1]: y = 255 x - mean.
            return [(2, 255, -103.939), (1, 255, -116.779), (0, 255, -123.68)]
        case .torchvision:
            let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
            return (0..<3).map { ($0, 1 / std[$0], -mean[$0] / std[$0]) }
        case .efficientNetLite:
            return (0..<3).map { ($0, 255 / 128, -127 / 128) }
        }
    }

    /// Maps an RGB batch (N, 3, H, W) in [0, 1] to the network's input convention.
    public func apply(_ rgb: Tensor) -> Tensor {
        precondition(rgb.rank == 4 && rgb.shape[1] == 3, "preprocessing: expected an RGB batch (N, 3, H, W), got \(rgb.shape)")
        let n = rgb.shape[0], plane = rgb.shape[2] * rgb.shape[3]
        let maps = channelMaps
        var out = [Float](repeating: 0, count: rgb.count)
        rgb.storage.withUnsafeBufferPointer { src in
            for b in 0..<n {
                for (c, m) in maps.enumerated() {
                    let s = (b * 3 + m.source) * plane, d = (b * 3 + c) * plane
                    for i in 0..<plane { out[d + i] = src[s + i] * m.scale + m.shift }
                }
            }
        }
        return Tensor.result(op: "preprocess_\(rawValue)", shape: rgb.shape, storage: out, inputs: [rgb]) { g in
            // d in[source] = g[c] * scale for each model channel c (a permutation, so no overlap).
            var gin = [Float](repeating: 0, count: g.count)
            for b in 0..<n {
                for (c, m) in maps.enumerated() {
                    let s = (b * 3 + m.source) * plane, d = (b * 3 + c) * plane
                    for i in 0..<plane { gin[s + i] = g.storage[d + i] * m.scale }
                }
            }
            return [Tensor(shape: g.shape, storage: gin)]
        }
    }
}
