import Foundation
import Models
import TensorCore
import Visualization

/// `make bench` patches: our images/s through VGG16 to conv5_3 with the top-k of all 512 channels over the photo
/// folder (decode, preprocess, forward, top-k: the whole `PatchSearch.run`), and the peak RSS of searches over
/// two photo-set sizes, to show memory does not grow with the number of photos.
///
/// Call from main.swift: `try runPatchesBench()` (arguments: the photo counts and thread count; defaults 20 and
/// 40 photos from $FILTERVIS_CACHE/photos, all cores). Prints one line per measurement, in the format of
/// Scripts/bench_patches.py (its onnxruntime peer).
func runPatchesBench(counts: [Int] = [20, 40], threads: Int = Parallel.threads, top: Int = 9, repeats: Int = 3) throws {
    let folder = ModelCatalog.cacheDirectory.appendingPathComponent("photos", isDirectory: true)
    let photos = try PatchSearch.imageFiles(in: folder)
    guard !photos.isEmpty else { throw PatchSearchError.noImages(folder: folder.path) }
    let network = try Network.load(model: "vgg16")
    let settings = PatchSearchSettings(top: top, perImage: 1)
    Parallel.threads = threads

    // Warm-up (first-touch page faults, kernel caches), then the images/s of the largest set.
    _ = try PatchSearch.run(network: network, layers: ["conv5_3"], images: Array(photos.prefix(4)), settings: settings)
    let largest = Array(photos.prefix(counts.max() ?? photos.count))
    var seconds: [Double] = []
    for _ in 0..<repeats {
        let start = Date()
        _ = try PatchSearch.run(network: network, layers: ["conv5_3"], images: largest, settings: settings)
        seconds.append(Date().timeIntervalSince(start))
    }
    let median = seconds.sorted()[seconds.count / 2]
    print(String(format: "patches filtervis threads=%d batch=%d images=%d end_to_end_images_per_s=%.2f (top-%d of 512 channels, "
                 + "median of %d)", threads, PatchSearch.chunkSize, largest.count, Double(largest.count) / median, top, repeats))

    // Peak RSS per set size: the high-water mark is reset before each search (Linux: /proc/self/clear_refs).
    for count in counts {
        let set = Array(photos.prefix(count))
        let reset = resetPeakRSS()
        let before = memoryMiB("VmRSS")
        _ = try PatchSearch.run(network: network, layers: ["conv5_3"], images: set, settings: settings)
        print(String(format: "patches filtervis memory images=%d peak_rss_mib=%.0f rss_before_mib=%.0f%@", set.count,
                     memoryMiB("VmHWM"), before, reset ? "" : " (cumulative: /proc/self/clear_refs not writable)"))
    }
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

/// Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs); false where unsupported.
private func resetPeakRSS() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    return (try? handle.write(contentsOf: Data("5".utf8))) != nil
}
