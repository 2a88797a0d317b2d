import Foundation
import Testing
@testable import ImageIO

/// The committed fixtures written by Scripts/fixtures/images.py.
struct ImageFixtures: Decodable {
    struct DecodeCase: Decodable, CustomStringConvertible {
        var file: String, expected: String, width: Int, height: Int, channels: Int, tolerance: Int, note: String
        var description: String { file }
    }
    struct ResizeCase: Decodable, CustomStringConvertible {
        var source: String, filter: String, width: Int, height: Int, channels: Int, expected: String
        var description: String { "\(source) -> \(width)x\(height) \(filter)" }
    }
    struct CropCase: Decodable, CustomStringConvertible {
        var source: String, shorter: Int, crop: Int, expected: String, resized: [Int], offset: [Int]
        var description: String { "resize \(shorter) crop \(crop)" }
    }
    var pillow: String
    var decode: [DecodeCase]
    var resize: [ResizeCase]
    var torchvision_crop: [CropCase]

    static let shared: ImageFixtures = {
        let data = try! Data(contentsOf: url("images.json"))
        return try! JSONDecoder().decode(ImageFixtures.self, from: data)
    }()

    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }

    static func bytes(_ name: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: url("images/\(name)")))
    }
}

/// The largest per-sample difference and where it is, for failure messages.
func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> (value: Int, index: Int) {
    precondition(a.count == b.count)
    var best = (value: 0, index: -1)
    for i in 0..<a.count {
        let d = abs(Int(a[i]) - Int(b[i]))
        if d > best.value { best = (d, i) }
    }
    return best
}

/// A fresh empty folder under the temporary directory.
func temporaryFolder() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `body` expecting an ImageError; returns it (nil and a recorded failure otherwise).
func expectImageError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ImageError? {
    do {
        try body()
        Issue.record("expected an ImageError, got success", sourceLocation: sourceLocation)
    } catch let error as ImageError {
        return error
    } catch {
        Issue.record("expected an ImageError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
