import Foundation
import Testing
@testable import Checkpoints

/// Code-running globals beyond the first dozen, each in a pickle that really would run its payload under Python's
/// pickle.loads (checked by hand with python3 3.11 for getattr, _reconstructor and eval: the marker file appears):
/// refused by name, and the marker never appears.
@Suite struct PickleGlobalTests {
    static func x(_ s: String) -> [UInt8] { PickleBytes.binUnicode(s) }
    static func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }

    /// (refused global, pickle bytes) for a payload that runs `touch marker`.
    static func payloads(marker: String) -> [(String, Data)] {
        let command = "touch \(marker)"
        // getattr(__import__('os'), 'system')('touch marker')
        let getattr = [0x80, 0x02] + global("builtins", "getattr") + global("builtins", "__import__") + x("os") + [0x85, 0x52]
            + x("system") + [0x86, 0x52] + x(command) + [0x85, 0x52, 0x2E]
        // copyreg._reconstructor(subprocess.Popen, subprocess.Popen, ['touch', marker]): Popen.__init__ runs it.
        let reconstructor = [0x80, 0x02] + global("copyreg", "_reconstructor") + global("subprocess", "Popen")
            + global("subprocess", "Popen") + [0x5D] + x("touch") + [0x61] + x(marker) + [0x61, 0x87, 0x52, 0x2E]
        // torch.storage._load_from_bytes(b): torch.load of an inner pickle calling os.system('touch marker').
        let inner = [0x80, 0x02] + global("os", "system") + x(command) + [0x85, 0x52, 0x2E]
        let loadFromBytes = [0x80, 0x02] + global("torch.storage", "_load_from_bytes") + [0x42] + le(UInt32(inner.count)) + inner
            + [0x85, 0x52, 0x2E]
        // __builtin__.eval("__import__('os').system('touch marker')"): Python 3 maps __builtin__ to builtins.
        let eval = [0x80, 0x02] + global("__builtin__", "eval") + x("__import__('os').system('\(command)')") + [0x85, 0x52, 0x2E]
        // The same globals through STACK_GLOBAL (protocol 4).
        let stackGetattr = Data([0x80, 0x04] + PickleBytes.shortUnicode("builtins") + PickleBytes.shortUnicode("getattr") + [0x93]
            + global("os", "system") + x(command) + [0x85, 0x52, 0x2E])
        return [("builtins.getattr", Data(getattr)), ("copyreg._reconstructor", Data(reconstructor)),
                ("torch.storage._load_from_bytes", Data(loadFromBytes)), ("__builtin__.eval", Data(eval)),
                ("builtins.getattr", stackGetattr)]
    }

    @Test func moreCodeRunningGlobalsAreRefusedByNameAndNeverRun() throws {
        let marker = "/tmp/filtervis-pwned-\(UUID())"
        for (name, bytes) in Self.payloads(marker: marker) {
            for format in [CheckpointFormat.numpyPickle, .torchLegacy] {
                let error = checkpointError { _ = try Checkpoint.load(bytes, format: format) }
                guard case .refusedGlobal(name)? = error?.underlying else {
                    Issue.record("\(name) via \(format): \(String(describing: error))"); continue
                }
                #expect(error?.description.contains("refuses to load the global '\(name)'") == true)
            }
            // Inside a .pth zip, as data.pkl, loaded from a file by format detection.
            let zip = ZipBuilder(entries: [("archive/data.pkl", [UInt8](bytes))]).build().data
            let path = try temporaryFile(zip, name: "evil.pth")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let error = checkpointError { _ = try Checkpoint.load(path: path) }
            #expect(error?.description.contains("evil.pth: refuses to load the global '\(name)'") == true, "\(String(describing: error))")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(name): the pickle's command ran")
        }
    }

    @Test func theOriginalTwelveStayRefused() {
        // The allow-list refuses by default; these are the globals the earlier sweep tried.
        let names = ["os.system", "posix.system", "builtins.eval", "builtins.exec", "subprocess.Popen", "torch.load",
                     "numpy.load", "collections.namedtuple", "builtins.__import__", "builtins.open", "pickle.loads",
                     "nt.system"]
        for qualified in names {
            let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
            let error = checkpointError { _ = try Unpickler.load(PickleBytes.globalCall(parts[0], parts[1], "x")) }
            guard case .refusedGlobal(qualified)? = error else { Issue.record("\(qualified): \(String(describing: error))"); continue }
        }
    }
}
