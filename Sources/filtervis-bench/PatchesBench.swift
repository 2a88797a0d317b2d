import Foundation
import Models
import TensorCore
import Visualization

/// The patches workload of `make bench`: `PatchSearch.run` over the photo folder, VGG16 to conv5_3, the top 9
/// of all 512 channels (decode, preprocess, forward, top-k: the whole pass), and its memory at two photo-set
/// sizes. Scripts/bench_patches.py times onnxruntime on the same photos and workload name.
///
/// Called first from main.swift (a fresh process, so the memory figures are its own).
/// Emits (with main.swift's `emit`) one line per photo-set size, workload `mem_patches_vgg16_conv5_3_photosN` with
/// `peak_mib` (cumulative peak RSS after searching N photos, smallest set first: flat means memory does not
/// grow with the number of photos) and `baseline_mib` (RSS with the weights loaded), then one timing line,
/// workload `patches_vgg16_conv5_3_photosN` (N the largest count), `median_s` per pass and `images_per_s`.
/// Memory is measured first, in a process that has done nothing else, so the allocator's retained heap from
/// the timed passes does not count.
func runPatchesBench(threads: Int, restoring policy: AllocatorPolicy, counts: [Int] = [20, 40], repeats: Int = 3, top: Int = 9) throws {
    let folder = ModelCatalog.cacheDirectory.appendingPathComponent("photos", isDirectory: true)
    let photos = try PatchSearch.imageFiles(in: folder)
    guard !photos.isEmpty else { throw PatchSearchError.noImages(folder: folder.path) }
    let network = try Network.load(model: "vgg16")
    let settings = PatchSearchSettings(top: top, perImage: 1)
    let conv5_3 = try network.layer("conv5_3")
    // As `filtervis patches`: the memory heap policy, but weight transforms cached whatever the bench's policy.
    func search(_ images: [URL]) throws {
        try ComputeSettings.with({ $0.transformCacheBytes = ComputeSettings.defaultTransformCacheBytes }) {
            _ = try PatchSearch.run(network: network, layers: [conv5_3], images: images, settings: settings)
        }
    }

    // As `filtervis patches` runs: freed activations go straight back to the system, so the peak is what the
    // search needs, not what a kept heap accumulated (the bench's own policy is restored afterwards).
    PatchSearch.preferredAllocator.apply()
    defer { policy.apply() }
    let baseline = memoryMiB("VmRSS")
    for count in counts.sorted() {
        let set = Array(photos.prefix(count))
        try search(set)
        emit(["impl": "filtervis patches (\(set.count) photos)", "workload": "mem_patches_vgg16_conv5_3_photos\(set.count)",
              "threads": threads, "images": set.count, "peak_mib": memoryMiB("VmHWM"), "baseline_mib": baseline])
    }

    let set = Array(photos.prefix(counts.max() ?? photos.count))
    var times: [Double] = [], cpu: [Double] = []
    for _ in 0..<repeats {
        let (s, c) = (now(), cpuNow())
        try search(set)
        times.append(now() - s); cpu.append(cpuNow() - c)
    }
    let median = times.sorted()[times.count / 2]
    let gflop = Double(set.count) * forwardGFLOP(network, through: conv5_3.node.index, size: 224)
    let executed = Double(set.count) * forwardGFLOP(network, through: conv5_3.node.index, size: 224, executed: true)
    emit(["impl": "filtervis", "workload": "patches_vgg16_conv5_3_photos\(set.count)", "kind": "patches", "threads": threads,
          "batch": PatchSearch.chunkSize, "images": set.count, "median_s": median, "best_s": times.min()!, "runs": times,
          "images_per_s": Double(set.count) / median, "gflop": gflop, "gflops": gflop / median, "executed_gflop": executed,
          "cpu_s_min": cpu.min()!])
}

/// Forward FLOPs (2 per multiply-add) of the convolutions up to module `last` for a `size` x `size` input: the
/// direct-convolution count, or with `executed` what our kernels run (see ConvAlgorithm.executedMultiplyAdds).
private func forwardGFLOP(_ network: Network, through last: Int, size: Int, executed: Bool = false) -> Double {
    var side = size, flops = 0.0
    for layer in network.architecture.layers.prefix(last + 1) {
        switch layer.kind {
        case let .conv(c):
            let (cin, cout, k, s, p, d) = (c.inChannels, c.outChannels, c.kernel, c.stride, c.padding.top, c.dilation)
            if executed {
                precondition(d == 1, "forwardGFLOP: dilated convolutions are not counted")
                flops += 2 * Double(ConvAlgorithm.executedMultiplyAdds(
                    batch: 1, inChannels: cin, outChannels: cout, height: side, width: side, kernel: k, stride: s,
                    padding: p, inputGradient: false))
            }
            side = (side + 2 * p - d * (k - 1) - 1) / s + 1
            if !executed { flops += 2 * Double(cout * cin * k * k) * Double(side * side) }
        case let .maxPool(k, s, p, _):
            side = (side + 2 * p - k) / s + 1
        default: break
        }
    }
    return flops / 1e9
}

/// A memory figure of this process from /proc/self/status (VmHWM: peak RSS, VmRSS: current) in MiB, 0 if unknown.
private func memoryMiB(_ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kib = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kib / 1024
    }
    return 0
}
