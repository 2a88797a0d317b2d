@testable import Experiments
import Foundation
import ImageIO
import TensorCore
import Testing
import Visualization

/// The report renders in a real browser: headless Chromium screenshots of index.html and one card page.
@Suite(.serialized) struct ReportScreenshotTests {
    @Test func indexAndCardRenderAsFullNonBlankPages() throws {
        let dir = try ExperimentRunTests.freshFolder("report")
        try ExperimentRunTests.run(into: dir)
        let chromium = try Chromium.ensureInstalled()
        let shots = dir.appendingPathComponent("screenshots")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        for (page, name) in [("index.html", "index.png"), ("conv2_1/filter_0001.html", "card.png")] {
            let png = shots.appendingPathComponent(name)
            try Chromium.screenshot(chromium, page: dir.appendingPathComponent(page), to: png, width: 1200, height: 900)
            let image = try Image(contentsOf: png)
            #expect(image.width == 1200 && image.height == 900, "\(name) is \(image.width) x \(image.height)")
            // A blank or error page is one flat colour; a real page has text, tables and pictures.
            let gray = image.gray().pixels.map(Double.init)
            let mean = gray.reduce(0, +) / Double(gray.count)
            let variance = gray.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gray.count)
            #expect(variance > 200, "\(name): pixel variance \(variance) (mean \(mean)) looks blank")
            let distinct = Set(image.pixels).count
            #expect(distinct > 64, "\(name): only \(distinct) distinct sample values")
        }
    }

    @Test func pagesUseNoScriptsAndNoExternalResources() throws {
        let dir = try ExperimentRunTests.freshFolder("report-static")
        try ExperimentRunTests.run(into: dir)
        for page in ["index.html", "conv2_1/filter_0001.html", "conv2_1/filter_0002.html"] {
            let html = try String(contentsOf: dir.appendingPathComponent(page), encoding: .utf8)
            #expect(!html.contains("<script"))
            #expect(!html.contains("http://") && !html.contains("https://"))
            // Every local reference exists.
            for ref in html.components(separatedBy: "src=\"").dropFirst().map({ String($0.prefix { $0 != "\"" }) }) {
                let target = dir.appendingPathComponent(page).deletingLastPathComponent().appendingPathComponent(ref)
                #expect(FileManager.default.fileExists(atPath: target.path), "\(page) shows missing \(ref)")
            }
        }
    }
}

/// Headless Chromium for screenshot tests, installed through the project's apt helper when missing (CI too).
enum Chromium {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The chromium binary, after `Scripts/ensure-apt.sh chromium` if it is not on the PATH.
    static func ensureInstalled() throws -> URL {
        if let found = which("chromium") { return found }
        let status = try runProcess(repositoryRoot.appendingPathComponent("Scripts/ensure-apt.sh"), ["chromium"])
        guard status == 0, let found = which("chromium") else {
            throw VisualizationError.badSetting("chromium is missing and Scripts/ensure-apt.sh chromium failed (exit \(status)); install the Debian package chromium")
        }
        return found
    }

    static func screenshot(_ chromium: URL, page: URL, to png: URL, width: Int, height: Int) throws {
        let status = try runProcess(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                               "--screenshot=\(png.path)", "--window-size=\(width),\(height)", page.absoluteString])
        guard status == 0, FileManager.default.fileExists(atPath: png.path) else {
            throw VisualizationError.badSetting("chromium could not screenshot \(page.path) (exit \(status))")
        }
    }

    static func which(_ name: String) -> URL? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    static func runProcess(_ executable: URL, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
