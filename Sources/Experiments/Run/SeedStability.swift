import ImageIO
import Visualization

/// How alike a filter's images are across seeds.
enum SeedStability {
    /// Mean Pearson correlation over all pairs of the images' bytes; nil for fewer than two images.
    static func meanPairwiseCorrelation(_ images: [Image]) -> Double? {
        guard images.count >= 2 else { return nil }
        var total = 0.0, pairs = 0
        for i in 0..<images.count {
            for j in (i + 1)..<images.count {
                total += correlation(images[i].pixels, images[j].pixels)
                pairs += 1
            }
        }
        return total / Double(pairs)
    }

    /// Pearson correlation of two equal-length byte sequences (0 when either is constant).
    static func correlation(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count, "correlation: \(a.count) vs \(b.count) samples")
        let n = Double(a.count)
        var sa = 0.0, sb = 0.0
        for i in a.indices { sa += Double(a[i]); sb += Double(b[i]) }
        let ma = sa / n, mb = sb / n
        var cov = 0.0, va = 0.0, vb = 0.0
        for i in a.indices {
            let da = Double(a[i]) - ma, db = Double(b[i]) - mb
            cov += da * db; va += da * da; vb += db * db
        }
        return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : 0
    }
}
