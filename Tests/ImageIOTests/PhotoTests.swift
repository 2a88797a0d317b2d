import Foundation
import Testing
@testable import ImageIO

/// The real photo collection (Scripts/fetch-photos.sh, manifest Scripts/photos.tsv) decodes with the sizes the
/// manifest records (measured with Pillow when the manifest was made).
@Suite("Real photos")
struct PhotoTests {
    struct Entry { var name: String; var width: Int; var height: Int }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var manifest: [Entry] {
        let text = (try? String(contentsOf: repository.appendingPathComponent("Scripts/photos.tsv"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let f = line.split(separator: "\t").map(String.init)
            guard f.count >= 4, let w = Int(f[2]), let h = Int(f[3]) else { return nil }
            return Entry(name: f[0], width: w, height: h)
        }
    }

    static var photoFolder: URL {
        let cache = ProcessInfo.processInfo.environment["FILTERVIS_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/filtervis")
        return cache.appendingPathComponent("photos")
    }

    @Test("Every photo in the manifest decodes with the recorded size")
    func allPhotosDecode() throws {
        let entries = Self.manifest
        #expect(entries.count >= 30, "manifest Scripts/photos.tsv lists \(entries.count) photos")
        guard FileManager.default.fileExists(atPath: Self.photoFolder.path) else {
            Issue.record("no photo cache at \(Self.photoFolder.path): run `make photos` (Scripts/fetch-photos.sh)")
            return
        }
        for entry in entries {
            let url = Self.photoFolder.appendingPathComponent(entry.name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                Issue.record("\(url.path) is missing: run `make photos` (Scripts/fetch-photos.sh)")
                continue
            }
            let decoded = try Image.decode(contentsOf: url)
            #expect(decoded.image.width == entry.width && decoded.image.height == entry.height,
                    "\(entry.name): \(decoded.image.width) x \(decoded.image.height), manifest \(entry.width) x \(entry.height)")
            #expect(decoded.info.warnings.isEmpty, "\(entry.name): \(decoded.info.warnings)")
        }
    }
}
