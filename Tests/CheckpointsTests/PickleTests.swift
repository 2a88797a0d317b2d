import Foundation
import Testing
@testable import Checkpoints

@Suite struct PickleTests {
    static let forbidden: [(String, String)] = [
        ("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"), ("subprocess", "Popen"),
        ("torch", "load"), ("numpy", "load"), ("collections", "namedtuple"),
    ]

    @Test(arguments: [false, true])
    func refusesForbiddenGlobalsNamingThem(stackGlobal: Bool) {
        for (module, name) in Self.forbidden {
            let marker = "/tmp/filtervis-pwned-\(UUID())"
            let bytes = stackGlobal ? PickleBytes.stackGlobalCall(module, name, "touch \(marker)")
                                    : PickleBytes.globalCall(module, name, "touch \(marker)")
            expectCheckpointError("refuses to load the global '\(module).\(name)'", "a pickle can run code") {
                _ = try Checkpoint.load(bytes, format: .numpyPickle)
            }
            #expect(!FileManager.default.fileExists(atPath: marker), "the pickle's command ran")
        }
    }

    @Test func refusesForbiddenGlobalsThroughInstAndInsideTorchZips() throws {
        // INST: MARK arg 'i' module\nname\n — the protocol-0 spelling of a call.
        let inst = Data([0x80, 0x02, 0x28] + PickleBytes.binUnicode("id") + Array("ibuiltins\neval\n".utf8) + [0x2E])
        expectCheckpointError("refuses to load the global 'builtins.eval'") { _ = try Checkpoint.load(inst, format: .numpyPickle) }
        // A .pth zip whose data.pkl calls os.system('touch /tmp/filtervis-evil-zip').
        try? FileManager.default.removeItem(atPath: "/tmp/filtervis-evil-zip")
        expectCheckpointError("evil_zip.pth: refuses to load the global 'os.system': a pickle can run code; only tensors and containers are allowed") {
            _ = try Checkpoint.load(path: try Fixture.path("evil_zip.pth"))
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/filtervis-evil-zip"))
    }

    @Test func refusesExtensionCodesAndOutOfBandBuffers() {
        expectCheckpointError("EXT1") { _ = try Unpickler.load(Data([0x80, 0x02, 0x82, 0x01, 0x2E])) }
        expectCheckpointError("out-of-band") { _ = try Unpickler.load(Data([0x80, 0x05, 0x97, 0x2E])) }
    }

    @Test func builtValuesMatchHandAssembledPickles() throws {
        // pickle.dumps({'a': [1, -2, 300, 2**40], 'b': (1.5, None, True)}, protocol=2), assembled by hand:
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28]
        bytes += PickleBytes.binUnicode("a") + [0x5D, 0x28, 0x4B, 0x01, 0x4A, 0xFE, 0xFF, 0xFF, 0xFF, 0x4D, 0x2C, 0x01,
                                                0x8A, 0x06, 0, 0, 0, 0, 0, 1, 0x65]
        bytes += PickleBytes.binUnicode("b") + [0x47, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0x4E, 0x88, 0x87, 0x75, 0x2E]
        let graph = try Unpickler.load(Data(bytes))
        guard case .dict(let dict)? = graph.object(graph.root) else { Issue.record("root is not a dict"); return }
        #expect(dict.items.count == 2)
        let list = try #require(graph.sequence(dict.items[0].value))
        let ints = list.compactMap { value -> Int? in if case .int(let i) = value { return i }; return nil }
        #expect(ints == [1, -2, 300, 1 << 40])
        let tuple = try #require(graph.sequence(dict.items[1].value))
        guard case .float(1.5) = tuple[0], case .none = tuple[1], case .bool(true) = tuple[2] else {
            Issue.record("tuple is \(tuple)"); return
        }
    }

    @Test func malformedPicklesGiveErrorsNotCrashes() {
        let cases: [([UInt8], String)] = [
            ([0x80, 0x02, 0x2E], "STOP with 0 values"),
            ([0x80, 0x02, 0x30, 0x2E], "empty stack"),
            ([0x80, 0x02, 0x68, 0x05, 0x2E], "memo entry 5 was never stored"),
            ([0x80, 0x02, 0x4E, 0x4E, 0x61, 0x2E], "APPEND to a None"),
            ([0x80, 0x02, 0x75, 0x2E], "no MARK"),
            ([0x80, 0x02, 0xFF], "at offset 2 (opcode 0xff): an opcode tensor checkpoint pickles never use"),
            ([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F], "truncated"),
            ([0x80, 0x02, 0x4E], "truncated"),
            ([0x80, 0x02, 0x4E, 0x4E, 0x2E], "2 values on the stack"),
            ([0x80, 0x02, 0x51, 0x2E], "empty stack"),
            ([0x80, 0x02, 0x4E, 0x51, 0x2E], "persistent id"),
        ]
        for (bytes, fragment) in cases {
            expectCheckpointError(fragment) { _ = try Unpickler.load(Data(bytes)) }
        }
    }

    @Test func deepNestingIsRefusedWithoutRecursion() throws {
        // 200,000 nested one-element lists: the unpickler builds them flat; the tensor walk refuses the depth.
        var bytes: [UInt8] = [0x80, 0x02]
        bytes += [UInt8](repeating: 0x5D, count: 1)  // innermost []
        for _ in 0..<200_000 { bytes += [0x85] }       // TUPLE1 around the previous value
        bytes += [0x2E]
        expectCheckpointError("nests deeper than 64 levels") { _ = try Checkpoint.load(Data(bytes), format: .numpyPickle) }
        // A list that contains itself: a cycle, caught by the same depth limit.
        let cycle: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]  // l = []; l.append(l)
        expectCheckpointError("nests deeper") { _ = try Checkpoint.load(Data(cycle), format: .numpyPickle) }
    }

    @Test func sharedSubtreesCannotMakeTheWalkExponential() {
        // l0 = [1]; l(k+1) = [lk, lk] for 60 levels: 2^60 paths in a 300-byte pickle. Refused, not walked.
        var bytes: [UInt8] = [0x80, 0x02, 0x5D, 0x4B, 0x01, 0x61, 0x71, 0x00, 0x30]    // [1], memo 0, POP
        for level in 1...60 {
            bytes += [0x68, UInt8(level - 1), 0x68, UInt8(level - 1), 0x86, 0x71, UInt8(level)]  // (lk, lk), memo k+1
            if level < 60 { bytes += [0x30] }                                               // POP
        }
        bytes += [0x2E]
        let start = Date()
        let error = checkpointError { _ = try Checkpoint.load(Data(bytes), format: .numpyPickle) }
        guard case .torch(.tooManyReferences)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func negativeStringLengthsAreMalformedNotTruncated() {
        let error = checkpointError { _ = try Unpickler.load(Data([0x80, 0x02, 0x54, 0xFB, 0xFF, 0xFF, 0xFF, 0x2E])) }
        guard case .malformedPickle(offset: 2, opcode: 0x54, .negativeLength)? = error else {
            Issue.record("\(String(describing: error))"); return
        }
    }
}
