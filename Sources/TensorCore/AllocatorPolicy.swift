#if canImport(Glibc)
import Glibc

// glibc's mallopt (malloc.h is not in Swift's Glibc module); M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
@_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

/// How the process's heap treats the large activation buffers every step allocates and frees.
///
/// Large arrays otherwise come from fresh mmap()s whose pages the kernel zeroes on first touch, every layer of
/// every step (about 20% of a batch-16 step's CPU time); keeping them in the heap saves that but raises the peak
/// (a VGG16 conv5_1 224 px batch-8 step: 312 MiB lean, 480 MiB kept). One policy per process: the C heap is
/// the process's, so this is the one setting that cannot be task-local (the CLI applies it once, at start).
public enum AllocatorPolicy: String, CaseIterable, Sendable {
    /// Keep freed buffers in the heap for reuse (the default for long optimisation runs).
    case speed
    /// Return buffers of 1 MiB and more to the kernel as soon as they are freed (lowest peak memory; pair it with
    /// `ComputeSettings.transformCacheBytes` = 0 to transform convolution weights afresh instead of caching them).
    case memory

    /// Applies the policy to this process's heap (a no-op where the C library is not glibc).
    public func apply() {
        #if canImport(Glibc)
        switch self {
        case .speed:
            _ = glibcMallopt(-3, 1 << 30)
            _ = glibcMallopt(-1, 1 << 30)
        case .memory:
            _ = glibcMallopt(-3, 1 << 20)
        }
        #endif
    }
}
