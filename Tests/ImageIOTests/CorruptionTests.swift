import Foundation
import Testing
import TensorCore
@testable import ImageIO

/// Damaged copies of every fixture: each must decode to a well-formed image or throw an ImageError, never crash
/// (a crash here would take the whole test process down, which is the point).
@Suite("Corrupted and truncated files")
struct CorruptionTests {
    /// The fixture files the corpus is built from (all PNG and JPEG kinds).
    static var sources: [String] { ImageFixtures.shared.decode.map(\.file) }

    /// Builds the seeded corpus: per file, truncations at 60 offsets spread over the file (plus the first 16
    /// bytes) and 100 copies with 1...8 random bytes replaced. Deterministic for a seed.
    static func corpus(seed: UInt64 = 2026) -> [(name: String, bytes: [UInt8])] {
        var rng = SeededGenerator(seed: seed)
        var cases: [(String, [UInt8])] = []
        for file in sources {
            let bytes = ImageFixtures.bytes(file)
            var offsets = Set(0..<min(16, bytes.count))
            for _ in 0..<60 { offsets.insert(rng.integer(in: 0...(bytes.count - 1))) }
            for offset in offsets.sorted() { cases.append(("\(file)[..<\(offset)]", Array(bytes.prefix(offset)))) }
            for k in 0..<100 {
                var damaged = bytes
                let flips = rng.integer(in: 1...8)
                for _ in 0..<flips {
                    // Half the flips land in the first 200 bytes, where the headers and tables are.
                    let limit = k % 2 == 0 ? min(200, bytes.count) : bytes.count
                    damaged[rng.integer(in: 0...(limit - 1))] = UInt8(truncatingIfNeeded: rng.next())
                }
                cases.append(("\(file) flip#\(k)", damaged))
            }
        }
        return cases
    }

    @Test("At least 5,000 damaged files: each gives a valid image or an ImageError")
    func corpusNeverCrashes() {
        let corpus = Self.corpus()
        #expect(corpus.count >= 5000, "only \(corpus.count) cases")
        var decoded = 0, refused = 0
        var kinds: [ImageError.Kind: Int] = [:]
        for (name, bytes) in corpus {
            do {
                // A low pixel limit: a flipped size byte must not make a test allocate gigabytes.
                let result = try Image.decode(bytes, name: name, options: DecodeOptions(pixelLimit: 4_000_000))
                let image = result.image
                #expect(image.pixels.count == image.width * image.height * image.channels && image.width > 0, "\(name)")
                decoded += 1
            } catch let error as ImageError {
                #expect(error.file == name && !error.reason.isEmpty)
                kinds[error.kind, default: 0] += 1
                refused += 1
            } catch {
                Issue.record("\(name): non-ImageError \(error)")
            }
        }
        let byKind = kinds.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", ")
        print("corruption corpus: \(corpus.count) cases, \(decoded) decoded, \(refused) refused (\(byKind))")
        // Both outcomes must occur, and truncation must be recognised as such.
        #expect(decoded > 100 && refused > 1000, "decoded \(decoded), refused \(refused)")
        #expect((kinds[.truncated] ?? 0) > 500, "\(kinds)")
    }
}
