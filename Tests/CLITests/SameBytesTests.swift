import Foundation
import Testing

/// README's promise at the command line: the same seed and settings give the same PNG bytes for a filter, alone or
/// in a full or tail batch, at any --batch and thread count, from `visualize` or from an experiment (`run`, whose
/// units hold 8 filters by default). Run past the default preset's 16-step ReLU warm-up.
@Suite(.serialized) struct SameBytesTests {
    static let settings = ["--layer", "conv4_1", "--size", "48", "--steps", "20", "--seed", "2", "--no-photo-baseline"]

    func visualize(_ extra: [String]) throws -> URL? {
        let out = temporaryFolder()
        guard let result = try CLI.run(["visualize"] + Self.settings + extra + ["--out", out.path]) else { return nil }
        #expect(result.status == 0, "visualize \(extra): \(result.stderr)")
        return out
    }

    @Test func visualizeAndRunGiveTheSameBytesWhateverTheBatch() throws {
        guard let alone = try visualize(["--filters", "5", "--threads", "1"]),
              let batched = try visualize(["--filters", "0-20", "--batch", "16", "--threads", "2"]),   // 5: full batch; 18: tail of 5
              let single = try visualize(["--filters", "18", "--batch", "1", "--threads", "3"]) else { return }

        let folder = temporaryFolder()
        let config = folder.appendingPathComponent("same-bytes.json5")
        try Data("""
            {
              layers: ['conv4_1'],
              filters: '5,18',
              preset: 'default',
              overrides: {size: 48, steps: 20},
              seeds: [2],
              outputs: ['filters'],
            }
            """.utf8).write(to: config)
        let experiment = folder.appendingPathComponent("out")
        guard let result = try CLI.run(["run", config.path, "--out", experiment.path, "--threads", "2"]) else { return }
        #expect(result.status == 0, "run: \(result.stderr)")

        func bytes(_ url: URL) -> Data? { try? Data(contentsOf: url) }
        let five = bytes(alone.appendingPathComponent("filter_0005.png"))
        let eighteen = bytes(single.appendingPathComponent("filter_0018.png"))
        #expect(five != nil && eighteen != nil)
        #expect(bytes(batched.appendingPathComponent("filter_0005.png")) == five, "filter 5 alone vs in a full batch of 16")
        #expect(bytes(batched.appendingPathComponent("filter_0018.png")) == eighteen, "filter 18 at --batch 1 vs in a tail batch of 5")
        let run = experiment.appendingPathComponent("conv4_1/default/seed2")
        #expect(bytes(run.appendingPathComponent("filter_0005.png")) == five, "filter 5: run vs visualize")
        #expect(bytes(run.appendingPathComponent("filter_0018.png")) == eighteen, "filter 18: run vs visualize")
    }
}
