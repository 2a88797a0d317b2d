import Foundation
import Models

/// Loads a model's weights, fetching them first when the cache lacks them (every command that needs weights
/// does this itself, so `make visualize-conv3_1` works on a fresh machine).
///
/// The fetch runs Scripts/fetch-weights.sh from the copy carried in the binary (EmbeddedFetchScript), never from
/// the checkout, so a binary copied or installed elsewhere fetches exactly as one inside the checkout does.
enum WeightsFetcher {
    /// The network `model`, from `weights` if given, else from the cache (fetched if missing); a `model` ending in
    /// .onnx is that file's graph and weights, whose input convention is `preprocessing` (ONNX files do not say).
    static func loadNetwork(model: String, weights: String?, preprocessing: Preprocessing? = nil) throws -> Network {
        if ModelOptions.isONNX(model) {
            let name = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
            return try Network.importONNX(path: model, name: name, preprocessing: preprocessing ?? .torchvision)
        }
        if let weights { return try Network.load(model: model, weights: URL(fileURLWithPath: weights)) }
        let spec = try ModelCatalog.spec(named: model)
        let url = ModelCatalog.weightsURL(for: spec)
        if !FileManager.default.fileExists(atPath: url.path) { try fetch(missing: url, model: model) }
        return try Network.load(model: model, weights: url)
    }

    /// This binary's own path: the fetch script imports the downloads with it.
    static var executablePath: String {
        Bundle.main.executablePath ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// The shell the script needs.
    static let bash = "/bin/bash"

    static func fetch(missing url: URL, model: String) throws {
        let binary = executablePath
        guard FileManager.default.isExecutableFile(atPath: bash) else {
            throw CLIError.fetchImpossible(model: model, path: url.path, reason: "fetching them needs \(bash), which this machine lacks",
                                           binary: binary)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("filtervis-fetch-\(UUID().uuidString)")
        let script = folder.appendingPathComponent("fetch-weights.sh")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data((EmbeddedFetchScript.text + "\n").utf8).write(to: script)
        } catch {
            throw CLIError.fetchImpossible(model: model, path: url.path, reason: "the fetch script could not be written to "
                                           + "\(folder.path) (\(error.localizedDescription); set TMPDIR to a writable folder)", binary: binary)
        }
        log("filtervis: the \(model) weights are not cached yet; fetching them into \(ModelCatalog.cacheDirectory.path) "
            + "(Scripts/fetch-weights.sh, carried in this binary)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bash)
        process.arguments = [script.path, binary]
        process.standardOutput = FileHandle.standardError
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError.fetchFailed(model: model, status: process.terminationStatus, binary: binary)
        }
    }
}
