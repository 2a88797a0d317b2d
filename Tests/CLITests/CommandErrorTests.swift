import Foundation
import Testing

/// Bad input to `patches`, `card`, `run` and `merge`: a non-zero exit before any work, one error line naming the
/// value and what to do, and nothing left behind in the output's folder.
@Suite(.serialized) struct CommandErrorTests {
    /// A config file holding `text` (in a folder of its own) and an empty folder to put the output folder in, which
    /// must stay empty.
    func config(_ text: String) throws -> (config: URL, parent: URL) {
        let config = temporaryFolder().appendingPathComponent("bad.json5")
        try Data(text.utf8).write(to: config)
        return (config, temporaryFolder())
    }

    @Test("run: unknown config keys, a missing photo folder, a layer that does not exist, an output folder that cannot be made")
    func runRefusesBadConfigs() throws {
        let photos = try LibraryReference.photos(["apple.jpg"])
        let cases: [(text: String, mentions: [String])] = [
            ("{model: 'alexnet', layers: ['conv2'], stepz: 4}", ["unknown key 'stepz'", "known: name, model, layers"]),
            ("{model: 'alexnet', layers: ['conv2'], overrides: {size: 64, stepz: 4}}", ["'stepz'", "size, steps, lr"]),
            ("{model: 'alexnet', layers: ['conv2'], photos: '/nonexistent/photos'}", ["'photos'", "/nonexistent/photos", "no such folder", "give a folder of JPEG or PNG photos"]),
            ("{model: 'alexnet', layers: ['conv9'], photos: '\(photos.path)'}", ["'layers'", "conv9", "conv5"]),
        ]
        for (text, mentions) in cases {
            let (config, parent) = try config(text)
            try expectRefused(["run", config.path, "--out", parent.appendingPathComponent("out").path], status: 1,
                              mentions: [config.path] + mentions, leaves: parent)
        }
        // A good config into a folder that cannot be made (below a file): refused before any unit runs.
        let (good, parent) = try config("{model: 'alexnet', layers: ['conv2'], filters: '0', overrides: {size: 64, steps: 1}, outputs: ['filters']}")
        try Data("x".utf8).write(to: parent.appendingPathComponent("a-file"))
        let out = parent.appendingPathComponent("a-file/out").path
        try expectRefused(["run", good.path, "--out", out], status: 1, mentions: [out], leaves: parent)
    }

    @Test("patches and card: a missing photo folder (exit 1), a layer that does not exist (exit 2)")
    func patchesAndCardRefuseBadArguments() throws {
        let photos = try LibraryReference.photos(["apple.jpg"])
        let parent = temporaryFolder(), out = parent.appendingPathComponent("out")
        let missing = parent.appendingPathComponent("no-photos").path
        try expectRefused(["patches", "--model", "alexnet", "--layers", "conv2", "--images", missing, "--out", out.path],
                          status: 1, mentions: [missing, "no such folder", "give a folder of JPEG or PNG photos"], leaves: parent)
        try expectRefused(["patches", "--model", "alexnet", "--layers", "conv2,conv9", "--images", photos.path, "--out", out.path],
                          status: 2, mentions: ["conv9", "conv5"], leaves: parent)
        let card = parent.appendingPathComponent("card.png").path
        try expectRefused(["card", "--model", "alexnet", "--layer", "conv2", "--filter", "3", "--images", missing, "--out", card],
                          status: 1, mentions: [missing, "no such folder", "give a folder of JPEG or PNG photos"], leaves: parent)
        try expectRefused(["card", "--model", "alexnet", "--layer", "conv9", "--filter", "3", "--images", photos.path, "--out", card],
                          status: 2, mentions: ["conv9", "conv5"], leaves: parent)
        try expectRefused(["card", "--model", "alexnet", "--layer", "conv2", "--filter", "192", "--images", photos.path, "--out", card],
                          status: 2, mentions: ["192", "0-191"], leaves: parent)
    }

    @Test("merge: a folder that is not an experiment")
    func mergeRefusesAForeignFolder() throws {
        let parent = temporaryFolder(), folder = parent.appendingPathComponent("not-an-experiment")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try expectRefused(["merge", folder.path], status: 1,
                          mentions: [folder.appendingPathComponent("config.json").path, "not an experiment folder", "filtervis run"],
                          leaves: parent)
    }
}
