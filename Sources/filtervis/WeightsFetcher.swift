import Foundation
import Models

/// Loads a model's weights, fetching them first when the cache lacks them (every command that needs weights
/// does this itself, so `make visualize-conv3_1` works on a fresh machine).
enum WeightsFetcher {
    /// The repository's fetch script, found from this source file's location at build time.
    static var fetchScript: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scripts/fetch-weights.sh")
    }

    /// The network `model`, from `weights` if given, else from the cache (fetched if missing).
    static func loadNetwork(model: String, weights: String?) throws -> Network {
        if let weights { return try Network.load(model: model, weights: URL(fileURLWithPath: weights)) }
        let spec = try ModelCatalog.spec(named: model)
        let url = ModelCatalog.weightsURL(for: spec)
        if !FileManager.default.fileExists(atPath: url.path) { try fetch(missing: url, model: model) }
        return try Network.load(model: model, weights: url)
    }

    static func fetch(missing url: URL, model: String) throws {
        let script = fetchScript
        guard FileManager.default.isExecutableFile(atPath: script.path) else {
            throw ModelError.weightsMissing(model: model, path: url.path)
        }
        log("filtervis: the \(model) weights are not cached yet; fetching them with \(script.path)")
        let process = Process()
        process.executableURL = script
        process.arguments = [CommandLine.arguments[0]]
        process.standardOutput = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("fetching the \(model) weights failed (\(script.path) exited with \(process.terminationStatus)); "
                           + "run `make weights` to see why, or pass --weights FILE")
        }
    }
}
