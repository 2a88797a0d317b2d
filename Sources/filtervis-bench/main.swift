// filtervis-bench: times TensorCore on the workloads of /work/shared/reference/performance.md and prints one
// JSON object per line (Scripts/bench.sh joins them with Scripts/bench_peers.py's and prints the table).
//
//   filtervis-bench [--threads N] [--only SUBSTRING] [--min-runs N] [--max-runs N] [--seconds S]
//                   [--allocator keep|lean]
//   filtervis-bench --only dw_ [--seconds S]  (EfficientNet-Lite0's depthwise layers; Scripts/bench_depthwise.py)
//   filtervis-bench --memory-child        (internal: one VGG16->conv5_1 224 px batch-8 step, prints peak RSS)
// Each workload: one warm-up run, then about --seconds worth of timed runs (between --min-runs and --max-runs);
// the median is reported. --allocator keep (default) keeps freed memory in the heap; lean returns it at once.
import Foundation
import TensorCore

struct Options {
    var threads = 2
    var only: String? = nil
    var minRuns = 3
    var maxRuns = 7
    var seconds = 8.0
    var memoryChild = false
    var allocator = "keep"

    init(_ args: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < args.count else { fail("option \(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--threads": threads = Int(value()) ?? 0
            case "--only": only = value()
            case "--min-runs": minRuns = Int(value()) ?? 0
            case "--max-runs": maxRuns = Int(value()) ?? 0
            case "--seconds": seconds = Double(value()) ?? 0
            case "--memory-child": memoryChild = true
            case "--allocator": allocator = value()
            case "--help", "-h":
                print("usage: filtervis-bench [--threads N] [--only SUBSTRING] [--min-runs N] [--max-runs N] [--seconds S] [--allocator keep|lean]")
                exit(0)
            default: fail("unknown option \(args[i]) (see --help)")
            }
            i += 1
        }
        if threads < 1 || minRuns < 1 || maxRuns < minRuns { fail("--threads and --min-runs must be >= 1, --max-runs >= --min-runs") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("filtervis-bench: \(message)\n".utf8))
    exit(2)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func emit(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    // Unbuffered, so a parent reading the pipe sees each line as it is emitted.
    FileHandle.standardOutput.write(data + Data([10]))
}

/// Peak resident set (VmHWM) of this process in MiB.
func peakRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? -1
        return kb / 1024
    }
    return -1
}

/// One activation-maximisation step: forward to the target conv, score = mean of channel 0, gradient w.r.t.
/// the input image only (the weights never require gradients).
func amStep(_ net: BenchNetwork, _ image: Tensor, targetConv: Int) -> Float {
    let x = image.detached()
    x.requiresGrad = true
    let y = net.features(x, throughConv: targetConv)
    let (n, c, h, w) = (y.shape[0], y.shape[1], y.shape[2], y.shape[3])
    var seed = [Float](repeating: 0, count: y.count)
    let v = 1 / Float(n * h * w)
    for b in 0..<n { for j in 0..<(h * w) { seed[(b * c) * h * w + j] = v } }
    y.backward(seed: Tensor(shape: y.shape, storage: seed))
    return x.grad!.storage[0]
}

struct Workload {
    let name: String
    let kind: String  // "am" or "forward"
    let model: String
    let size: Int
    let batch: Int
    let targetConv: Int?   // 0-based conv index for AM steps
    /// Direct-convolution GFLOP per image (the usual count, as in performance.md).
    let gflopPerImage: Double
    /// GFLOP per image our kernels really execute (fewer where Winograd runs); the share of the peak uses this.
    let executedGFLOPPerImage: Double
    let run: (Tensor) -> Void
}

let options = Options(CommandLine.arguments)
// Keep freed activations in the heap instead of returning them to the kernel: large arrays otherwise come from
// fresh mmap()s whose pages the kernel must zero on first touch, every layer of every step (~10% of a step).
// "lean" = AllocatorPolicy.memory, "keep" = .speed; "mid" unmaps only arrays of 32 MiB and more.
// Not in the memory child: there the peak must count what a step really needs, not what the heap kept.
@_silgen_name("mallopt") func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
if options.allocator == "lean" {
    AllocatorPolicy.memory.apply()
} else if options.allocator == "mid" {
    _ = glibcMallopt(-3, 32 << 20)
} else {
    AllocatorPolicy.speed.apply()
}
// One settings scope for the whole run: the threads asked for; "lean" also transforms weights afresh per call.
let settings = ComputeSettings(threads: options.threads,
                               transformCacheBytes: options.allocator == "lean" ? 0 : ComputeSettings.defaultTransformCacheBytes)
settings.run {

    // VGG16 conv indices: conv3_1 is the 5th conv (0-based 4), conv5_1 the 11th (10); AlexNet conv5 is 4.
    if options.memoryChild {
        let net = BenchNetwork.vgg16(withClassifier: false)
        var rng = SeededGenerator(seed: 1)
        let image = Tensor.randomUniform(shape: [8, 3, 224, 224], in: 0..<1, using: &rng)
        _ = amStep(net, image, targetConv: 10)          // warm up allocator pools
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)  // reset VmHWM
        let base = peakRSSMiB()
        _ = amStep(net, image, targetConv: 10)
        emit(["impl": "filtervis (allocator: \(options.allocator))", "workload": "mem_vgg16_conv5_1_224_b8",
              "threads": options.threads, "peak_mib": peakRSSMiB(), "baseline_mib": base])
        exit(0)
    }

    func want(_ name: String) -> Bool { options.only.map { name.contains($0) } ?? true }

    // The depthwise layers only when asked for (`--only dw_...`); Scripts/bench_depthwise.py sets them beside PyTorch.
    if let only = options.only, only.hasPrefix("dw_") {
        runDepthwiseBench(threads: options.threads, seconds: options.seconds, only: only)
        return
    }

    // The patch-gallery pass first, in this fresh process, so its peak memory is its own.
    if want("patches") {
        do { try runPatchesBench(threads: options.threads, restoring: options.allocator == "lean" ? .memory : .speed) } catch { fail("patches: \(error)") }
    }

    let vggNames = ["conv3_1": 4, "conv5_1": 10]
    var workloads: [Workload] = []
    let vggFeatures = BenchNetwork.vgg16(withClassifier: false)
    let alexFeatures = BenchNetwork.alexnet(withClassifier: false)
    for (layer, size, batches) in [("conv3_1", 128, [1, 16]), ("conv3_1", 224, [1, 16]), ("conv5_1", 224, [1, 8])] {
        for b in batches {
            let t = vggNames[layer]!
            workloads.append(Workload(name: "am_vgg16_\(layer)_\(size)_b\(b)", kind: "am", model: "vgg16", size: size, batch: b,
                                      targetConv: t, gflopPerImage: 2 * vggFeatures.forwardFLOPs(size: size, throughConv: t, classifier: false) / 1e9,
                                      executedGFLOPPerImage: vggFeatures.forwardFLOPs(size: size, throughConv: t, classifier: false,
                                                                                      executed: true, inputGradient: true) / 1e9,
                                      run: { _ = amStep(vggFeatures, $0, targetConv: t) }))
        }
    }
    for b in [1, 16] {
        workloads.append(Workload(name: "am_alexnet_conv5_224_b\(b)", kind: "am", model: "alexnet", size: 224, batch: b, targetConv: 4,
                                  gflopPerImage: 2 * alexFeatures.forwardFLOPs(size: 224, throughConv: 4, classifier: false) / 1e9,
                                  executedGFLOPPerImage: alexFeatures.forwardFLOPs(size: 224, throughConv: 4, classifier: false,
                                                                                   executed: true, inputGradient: true) / 1e9,
                                  run: { _ = amStep(alexFeatures, $0, targetConv: 4) }))
    }
    // A plain GEMM through the conv path (1x1 kernel: M = N = K = 1024): the micro-kernel's ceiling.
    let gemmWeight = Tensor(repeating: 0.001, shape: [1024, 1024, 1, 1])
    workloads.append(Workload(name: "kernel_conv1x1_1024", kind: "kernel", model: "-", size: 32, batch: 1, targetConv: nil,
                              gflopPerImage: 2 * 1024 * 1024 * 1024 / 1e9, executedGFLOPPerImage: 2 * 1024 * 1024 * 1024 / 1e9,
                              run: { _ in
                                  let x = Tensor(repeating: 1, shape: [1, 1024, 32, 32])
                                  _ = GradMode.withoutGrad { conv2d(x, weight: gemmWeight) }
                              }))
    func wantForward(_ model: String) -> Bool { [1, 8].contains { want("fwd_\(model)_224_b\($0)") } }
    let vggFull = wantForward("vgg16") ? BenchNetwork.vgg16(withClassifier: true) : nil
    let alexFull = wantForward("alexnet") ? BenchNetwork.alexnet(withClassifier: true) : nil
    for (net, model) in [(vggFull, "vgg16"), (alexFull, "alexnet")] {
        guard let net else { continue }
        for b in [1, 8] {
            workloads.append(Workload(name: "fwd_\(model)_224_b\(b)", kind: "forward", model: model, size: 224, batch: b, targetConv: nil,
                                      gflopPerImage: net.forwardFLOPs(size: 224, throughConv: nil, classifier: true) / 1e9,
                                      executedGFLOPPerImage: net.forwardFLOPs(size: 224, throughConv: nil, classifier: true,
                                                                              executed: true) / 1e9,
                                      run: { x in _ = GradMode.withoutGrad { net.classify(x) } }))
        }
    }

    for w in workloads where want(w.name) {
        var rng = SeededGenerator(seed: 1)
        let image = Tensor.randomUniform(shape: [w.batch, 3, w.size, w.size], in: 0..<1, using: &rng)
        let t0 = now(); w.run(image); let warm = now() - t0   // warm-up (also sizes the run count)
        let runs = max(options.minRuns, min(options.maxRuns, Int(options.seconds / max(warm, 1e-3))))
        var times: [Double] = [], cpu: [Double] = []
        for _ in 0..<runs {
            let s = now(), c = cpuNow()
            w.run(image)
            times.append(now() - s); cpu.append(cpuNow() - c)
        }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let gflop = w.gflopPerImage * Double(w.batch), executed = w.executedGFLOPPerImage * Double(w.batch)
        emit(["impl": "filtervis", "workload": w.name, "kind": w.kind, "threads": options.threads, "batch": w.batch,
              "median_s": median, "best_s": sorted[0], "runs": times, "gflop": gflop, "gflops": gflop / median,
              "executed_gflop": executed, "cpu_s_min": cpu.min()!])
    }

    // Peak memory of the conv5_1 batch-8 step, measured in a fresh child process so that nothing else held here counts.
    // Both allocator policies: "keep" (the timings above: freed memory stays in the heap, no page faults) and
    // "lean" (fixed 1 MiB mmap threshold: every large array is returned to the kernel when freed).
    for allocator in ["keep", "lean"] where want("mem_vgg16_conv5_1_224_b8") {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        child.arguments = ["--memory-child", "--threads", String(options.threads), "--allocator", allocator]
        let pipe = Pipe()
        child.standardOutput = pipe
        do {
            try child.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            print(String(decoding: data, as: UTF8.self), terminator: "")
        } catch {
            fail("could not start the memory child process: \(error)")
        }
    }
}
