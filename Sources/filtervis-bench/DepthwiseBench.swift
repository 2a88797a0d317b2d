// Depthwise convolutions of EfficientNet-Lite0 (224 px), on the depthwise kernel and on the generic grouped path
// (`ConvAlgorithm.direct`): forward (with bias), and forward + the input gradient (constant weights, as the engine
// runs it). Scripts/bench_depthwise.py times PyTorch on the same shapes and prints the table.
import TensorCore

struct DepthwiseLayer {
    let channels: Int, size: Int, kernel: Int, stride: Int
    /// TF "SAME" padding of one axis (the odd zero after), as EfficientNet-Lite's TF checkpoints use it.
    var padding: ConvPadding {
        let out = (size + stride - 1) / stride
        let total = max((out - 1) * stride + kernel - size, 0)
        return .asymmetric(top: total / 2, bottom: total - total / 2, left: total / 2, right: total - total / 2)
    }
    var name: String { "dw_\(channels)c_\(size)_k\(kernel)s\(stride)" }

    static let lite0: [DepthwiseLayer] = [
        DepthwiseLayer(channels: 96, size: 112, kernel: 3, stride: 2),
        DepthwiseLayer(channels: 144, size: 56, kernel: 3, stride: 1),
        DepthwiseLayer(channels: 240, size: 28, kernel: 5, stride: 1),
        DepthwiseLayer(channels: 672, size: 14, kernel: 5, stride: 2),
        DepthwiseLayer(channels: 1152, size: 7, kernel: 3, stride: 1),
    ]
}

/// Times each layer at batch 1 and 8, both passes, both paths; one JSON line per (path, workload).
func runDepthwiseBench(threads: Int, seconds: Double, only: String) {
    for layer in DepthwiseLayer.lite0 {
        for batch in [1, 8] {
            var rng = SeededGenerator(seed: 1)
            let x = Tensor.randomNormal(shape: [batch, layer.channels, layer.size, layer.size], using: &rng)
            let w = Tensor.randomNormal(shape: [layer.channels, 1, layer.kernel, layer.kernel], std: 0.3, using: &rng)
            let b = Tensor.randomNormal(shape: [layer.channels], std: 0.1, using: &rng)
            func forward(_ input: Tensor) -> Tensor {
                conv2d(input, weight: w, bias: b, stride: layer.stride, padding: layer.padding, groups: layer.channels)
            }
            // The input tracks its gradient and the seed is made once, so only the convolution's own work is timed.
            let input = x.detached()
            input.requiresGrad = true
            let seed = GradMode.withoutGrad { Tensor(repeating: 1, shape: forward(x).shape) }
            let passes: [(String, () -> Void)] = [
                ("fwd", { _ = GradMode.withoutGrad { forward(x) } }),
                ("fwdbwd", {
                    input.grad = nil
                    forward(input).backward(seed: seed)
                }),
            ]
            for (pass, run) in passes {
                let workload = "\(layer.name)_b\(batch)_\(pass)"
                guard workload.contains(only) else { continue }
                for (impl, algorithm) in [("filtervis", ConvAlgorithm.automatic), ("filtervis-generic", .direct)] {
                    let times = ConvAlgorithm.with(algorithm) { timeRuns(seconds: seconds, run) }
                    let sorted = times.sorted()
                    emit(["impl": impl, "workload": workload, "threads": threads, "batch": batch,
                          "median_s": sorted[sorted.count / 2], "best_s": sorted[0], "runs": times.count])
                }
            }
        }
    }
}

/// One warm-up, then runs for about `seconds` (3 to 200 of them); the times in seconds.
private func timeRuns(seconds: Double, _ run: () -> Void) -> [Double] {
    let t0 = now(); run(); let warm = now() - t0
    let count = max(3, min(200, Int(seconds / max(warm, 1e-5))))
    return (0..<count).map { _ in let s = now(); run(); return now() - s }
}
