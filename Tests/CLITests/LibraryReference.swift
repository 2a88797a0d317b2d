import Foundation
import ImageIO
import Models
import Testing

/// What the command tests compare the binary's files with: the library computing the same thing in this process,
/// on the same real weights and photos (both read FILTERVIS_CACHE, default ~/.cache/filtervis).
enum LibraryReference {
    /// AlexNet, loaded once: the cheapest real network (conv layers only need its features).
    static let alexnet: Result<Network, Error> = Result { try Network.load(model: "alexnet") }

    /// The network, or an issue saying to fetch the weights (then the test stops).
    static func network(sourceLocation: SourceLocation = #_sourceLocation) throws -> Network {
        do { return try alexnet.get() } catch {
            Issue.record("\(error): run `make weights` before the CLI tests", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// Small photos of the cache, so a search decodes little: apple and orange are 512 x 512 (rectangles that can be
    /// worked out by hand), home is 512 x 384.
    static let smallPhotos = ["apple.jpg", "home.jpg", "orange.jpg"]

    /// A fresh folder holding copies of `names` from the photo cache.
    static func photos(_ names: [String] = smallPhotos, sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let cache = ModelCatalog.cacheDirectory.appendingPathComponent("photos")
        let folder = temporaryFolder()
        for name in names {
            let source = cache.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path) else {
                Issue.record("\(source.path) is missing: run `make photos` before the CLI tests", sourceLocation: sourceLocation)
                throw CocoaError(.fileNoSuchFile)
            }
            try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name))
        }
        return folder
    }

    /// The photo files as the commands list them (`PatchSearch.imageFiles` resolves the folder's path).
    static func files(in folder: URL) -> [URL] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted()
            .map { folder.appendingPathComponent($0).standardizedFileURL } ?? []
    }

    /// A PNG the binary wrote, decoded.
    static func png(_ url: URL, sourceLocation: SourceLocation = #_sourceLocation) -> Image? {
        do { return try Image(contentsOf: url) } catch {
            Issue.record("\(url.path): \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Expects the PNG at `url` to decode to exactly `expected`; a difference is told by size or first sample,
    /// not by printing every pixel.
    static func expectPNG(_ url: URL, equals expected: Image, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let image = png(url, sourceLocation: sourceLocation) else { return }
        guard (image.width, image.height, image.channels) == (expected.width, expected.height, expected.channels) else {
            let sizes = "\(image.width) x \(image.height) x \(image.channels), the library's \(expected.width) x \(expected.height) x \(expected.channels)"
            Issue.record("\(url.lastPathComponent): \(sizes)", sourceLocation: sourceLocation)
            return
        }
        if let i = image.pixels.indices.first(where: { image.pixels[$0] != expected.pixels[$0] }) {
            let pixel = i / image.channels
            let differing = zip(image.pixels, expected.pixels).filter { $0 != $1 }.count
            let first = "(\(pixel % image.width), \(pixel / image.width)): \(image.pixels[i]) vs \(expected.pixels[i])"
            Issue.record("\(url.lastPathComponent): \(differing) samples differ from the library's, the first at \(first)", sourceLocation: sourceLocation)
        }
    }
}

/// A command expected to fail before any work: exit status, exactly one error line holding `mentions`, and
/// nothing left in `folder` but what was there before.
func expectRefused(_ arguments: [String], status: Int32, mentions: [String], leaves folder: URL,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let before = try OutputFixtures.snapshot(folder), entries = everything(in: folder)
    guard let result = try CLI.run(arguments, sourceLocation: sourceLocation) else { return }
    #expect(result.exitedNormally && result.status == status, "\(arguments[0]): exit \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
    let line = OutputFixtures.errorLine(result.stderr)
    #expect(line != nil && result.stderr.split(separator: "\n").count == 1, "\(arguments[0]): not one error line: \(result.stderr)",
            sourceLocation: sourceLocation)
    for text in mentions {
        #expect(line?.contains(text) == true, "\(arguments[0]): the error lacks '\(text)': \(result.stderr)", sourceLocation: sourceLocation)
    }
    #expect(try OutputFixtures.snapshot(folder) == before, "\(arguments[0]) changed files", sourceLocation: sourceLocation)
    #expect(everything(in: folder) == entries, "\(arguments[0]) left \(Set(everything(in: folder)).subtracting(entries).sorted())",
            sourceLocation: sourceLocation)
}

/// Every file and folder under `folder` (hidden ones too), relative to it.
func everything(in folder: URL) -> [String] {
    (FileManager.default.subpaths(atPath: folder.path) ?? []).sorted()
}
