import Foundation
import Testing

/// The argument sweep of issue 11: every model x a spread of layers x sizes x every preset and every command that
/// takes a size exits 0, 1 or 2, never by a signal, and a failure is one line. The refusal path is cheap, so it
/// is swept densely; each boundary the refusal names is then run for real one below, at and one above it (tiny
/// runs: 1 step, 1 filter), which proves the named minimum is exactly right.
@Suite(.serialized) struct InputSweepTests {
    static let models: [(model: String, layers: [String])] = [
        ("vgg16", ["conv1_1", "pool3", "pool5"]),
        ("vgg16-tv", ["conv1_1", "pool2", "conv5_3"]),
        ("alexnet", ["conv1", "pool2", "pool5"]),
    ]
    static let presets = ["default", "keras2016", "lucid"]

    static var photo: URL {
        let cache = ProcessInfo.processInfo.environment["FILTERVIS_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/filtervis")
        return cache.appendingPathComponent("photos/astronaut.png")
    }

    /// A folder holding one photo (patch searches and experiments over it are quick).
    static let photoFolder: URL = {
        let folder = temporaryFolder()
        try? FileManager.default.copyItem(at: photo, to: folder.appendingPathComponent("astronaut.png"))
        return folder
    }()

    /// Runs and checks the promise; returns the result (nil if the binary is missing).
    @discardableResult
    func check(_ arguments: [String], environment: [String: String] = [:], expect status: Int32? = nil,
               sourceLocation: SourceLocation = #_sourceLocation) throws -> CLI.Result? {
        guard let result = try CLI.run(arguments, environment: environment, sourceLocation: sourceLocation) else { return nil }
        let call = arguments.joined(separator: " ")
        #expect(result.exitedNormally, "\(call): killed by signal \(result.status)", sourceLocation: sourceLocation)
        #expect([0, 1, 2].contains(result.status), "\(call): exit \(result.status)", sourceLocation: sourceLocation)
        if let status { #expect(result.status == status, "\(call): exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation) }
        if result.status != 0 {
            let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("filtervis: error: ") }
            #expect(errors.count == 1, "\(call): not one error line: \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.hasSuffix("\n") && result.stderr.split(separator: "\n").last.map { $0.hasPrefix("filtervis: error: ") } == true,
                    "\(call): the error is not the last line: \(result.stderr)", sourceLocation: sourceLocation)
        }
        return result
    }

    /// The smallest value a refusal names ("use --size 50 or more").
    func namedMinimum(_ result: CLI.Result?) -> Int? {
        guard let text = result?.stderr, let range = text.range(of: #"use \S+ (\d+) or more"#, options: .regularExpression) else { return nil }
        return Int(text[range].split(separator: " ")[2])
    }

    /// Refused below `minimum` (exit 2, naming it), working at and above it.
    func expectBoundary(_ command: (Int) -> [String], minimum: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if minimum > 1 { try check(command(minimum - 1), expect: 2, sourceLocation: sourceLocation) }
        try check(command(minimum), expect: 0, sourceLocation: sourceLocation)
        try check(command(minimum + 1), expect: 0, sourceLocation: sourceLocation)
    }

    @Test("visualize: every model x layer spread x preset; sizes refused below the named minimum, which runs")
    func visualizeBoundaries() throws {
        for (model, layers) in Self.models {
            for layer in layers {
                for preset in Self.presets {
                    let out = temporaryFolder().path
                    func command(_ size: Int) -> [String] {
                        ["visualize", "--model", model, "--layer", layer, "--preset", preset, "--size", String(size),
                         "--steps", "1", "--filters", "0", "--no-photo-baseline", "--out", out]
                    }
                    let refused = try check(command(1), expect: 2)
                    let minimum = try #require(namedMinimum(refused), "\(model) \(layer) \(preset): \(refused?.stderr ?? "")")
                    #expect(minimum >= 16)
                    try expectBoundary(command, minimum: minimum)
                }
            }
        }
    }

    @Test("visualize: every size 1...64 on the deepest layers (dense refusal path and real runs above it)")
    func visualizeEverySmallSize() throws {
        for (model, layer, preset) in [("alexnet", "pool5", "default"), ("vgg16", "pool5", "keras2016")] {
            let out = temporaryFolder().path
            for size in 1...64 {
                try check(["visualize", "--model", model, "--layer", layer, "--preset", preset, "--size", String(size),
                           "--steps", "1", "--filters", "0", "--no-photo-baseline", "--out", out])
            }
        }
    }

    @Test("forward --crop, featuremaps --size, patches --scales: refused below the named minimum, which runs")
    func forwardFeatureMapsPatchesBoundaries() throws {
        let photo = Self.photo.path
        for (model, layers) in Self.models {
            for layer in layers {
                let forward = { (crop: Int) in ["forward", "--model", model, "--layer", layer, "--image", photo,
                                                "--resize", String(max(crop, 16)), "--crop", String(crop)] }
                let minimum = namedMinimum(try check(forward(1))) ?? 1
                try expectBoundary(forward, minimum: minimum)

                let out = temporaryFolder().path
                let maps = { (size: Int) in ["featuremaps", "--model", model, "--layer", layer, "--image", photo,
                                             "--size", String(size), "--tile", "8", "--out", out] }
                if let least = namedMinimum(try check(maps(16))) { try expectBoundary(maps, minimum: least) } else {
                    try check(maps(16), expect: 0)
                }

                let patches = { (scale: Int) in ["patches", "--model", model, "--layers", layer, "--filters", "0", "--top", "1",
                                                 "--scales", String(scale), "--images", Self.photoFolder.path, "--out", out] }
                if let least = namedMinimum(try check(patches(16))) { try expectBoundary(patches, minimum: least) } else {
                    try check(patches(16), expect: 0)
                }
            }
        }
    }

    @Test("card on the deepest layers, every preset's own size: exit 0")
    func cardRuns() throws {
        for (model, layer) in [("alexnet", "pool5"), ("vgg16", "pool5")] {
            try check(["card", "--model", model, "--layer", layer, "--filter", "0", "--preset", "keras2016", "--top", "1",
                       "--images", Self.photoFolder.path, "--out", temporaryFolder().appendingPathComponent("card.png").path], expect: 0)
        }
    }

    func config(_ body: String) throws -> String {
        let file = temporaryFolder().appendingPathComponent("sweep.json5")
        try body.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("experiment configs: overrides.size and featuremaps.size refused below the named minimum (exit 1), which runs")
    func experimentBoundaries() throws {
        for (model, layer) in [("alexnet", "pool5"), ("vgg16", "pool5")] {
            let sizes = { (size: Int) in try self.config("""
                {model: '\(model)', layers: ['\(layer)'], filters: '0', outputs: ['filters'], batch: 1,
                 overrides: {size: \(size), steps: 1}}
                """) }
            let refused = try check(["run", try sizes(16), "--out", temporaryFolder().path], expect: 1)
            let minimum = try #require(namedMinimum(refused), "\(refused?.stderr ?? "")")
            try check(["run", try sizes(minimum - 1), "--out", temporaryFolder().path], expect: 1)
            try check(["run", try sizes(minimum), "--out", temporaryFolder().path], expect: 0)

            let maps = { (size: Int) in try self.config("""
                {model: '\(model)', layers: ['\(layer)'], outputs: ['featuremaps'], photos: '\(Self.photoFolder.path)',
                 featuremaps: {layers: ['\(layer)'], photo: 'astronaut.png', size: \(size), tile: 8}}
                """) }
            let mapsRefused = try check(["run", try maps(16), "--out", temporaryFolder().path], expect: 1)
            let least = try #require(namedMinimum(mapsRefused), "\(mapsRefused?.stderr ?? "")")
            try check(["run", try maps(least), "--out", temporaryFolder().path], expect: 0)
        }
    }

    // MARK: The crashes of issue 11, one test each

    @Test("issue 11: the SIGILL cases are usage errors naming the smallest size that works", arguments: [
        (["visualize", "--model", "alexnet", "--layer", "conv3", "--size", "16", "--filters", "0-3"], "--size 50"),
        (["visualize", "--layer", "pool5", "--size", "48"], "--size 50"),
        (["visualize", "--model", "alexnet", "--layer", "pool5", "--size", "96"], "--size 114"),
        (["forward", "--model", "alexnet", "--layer", "conv5", "--resize", "16", "--crop", "16"], "--crop 31"),
        (["forward", "--model", "alexnet", "--layer", "conv1", "--crop", "1", "--resize", "1"], "--crop 7"),
        (["featuremaps", "--layer", "pool5", "--size", "16"], "--size 32"),
    ])
    func crashesAreRefused(arguments: [String], names: String) throws {
        var full = arguments
        if arguments[0] == "forward" || arguments[0] == "featuremaps" { full += ["--image", Self.photo.path] }
        if arguments[0] != "forward" { full += ["--out", temporaryFolder().path] }
        let result = try check(full, expect: 2)
        #expect(result?.stderr.contains("use \(names) or more") == true, "\(result?.stderr ?? "")")
    }

    @Test("issue 11: sizes past the memory budget are refused before any work, naming the largest that fits", arguments: [
        ["visualize", "--size", "100000", "--layer", "conv1_1"],
        ["featuremaps", "--size", "100000", "--layer", "conv1_1"],
        ["forward", "--resize", "16000", "--crop", "16000", "--layer", "conv1_1"],
    ])
    func hugeSizesAreRefused(arguments: [String]) throws {
        var full = arguments
        if arguments[0] == "forward" || arguments[0] == "featuremaps" { full += ["--image", Self.photo.path] }
        if arguments[0] != "forward" { full += ["--out", temporaryFolder().path] }
        let started = Date()
        let result = try check(full, expect: 2)
        #expect(result?.stderr.contains("memory budget") == true && result?.stderr.contains("or less") == true, "\(result?.stderr ?? "")")
        #expect(Date().timeIntervalSince(started) < 20, "refused only after work")
        // A lower FILTERVIS_MEMORY_LIMIT lowers the largest size named.
        let limited = try check(full, environment: ["FILTERVIS_MEMORY_LIMIT": "256M"], expect: 2)
        #expect(limited?.stderr.contains("256 MiB") == true, "\(limited?.stderr ?? "")")
    }

    @Test("issue 11: configs with size, featuremaps.size 100000 and patches.cropSize 100000 exit 1 with the key named")
    func hugeConfigSizes() throws {
        for (body, key) in [
            ("overrides: {size: 100000}", "overrides.size"),
            ("overrides: {size: 96}", "overrides.size"),
            ("patches: {cropSize: 100000}", "patches.cropSize"),
            ("featuremaps: {layers: ['pool5'], photo: 'astronaut.png', size: 100000}", "featuremaps.size"),
        ] {
            let file = try config("{model: 'alexnet', layers: ['pool5'], filters: '0', photos: '\(Self.photoFolder.path)', \(body)}")
            let result = try check(["run", file, "--out", temporaryFolder().path], expect: 1)
            #expect(result?.stderr.contains(key) == true, "\(body): \(result?.stderr ?? "")")
        }
    }

    @Test("issue 11: a FIFO named x.jpg is skipped as not a regular file, never waited on; a 30 GB sparse file is too large")
    func specialFiles() throws {
        let folder = temporaryFolder()
        try FileManager.default.copyItem(at: Self.photo, to: folder.appendingPathComponent("a.png"))
        let fifo = folder.appendingPathComponent("x.jpg").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let started = Date()
        let patches = try check(["patches", "--layers", "conv1_1", "--filters", "0", "--images", folder.path,
                                 "--out", temporaryFolder().path], expect: 0)
        #expect(patches?.stderr.contains("x.jpg: not a regular file (a FIFO)") == true, "\(patches?.stderr ?? "")")
        let visualize = try check(["visualize", "--layer", "conv1_1", "--filters", "0", "--steps", "1", "--size", "16",
                                   "--photos", folder.path, "--out", temporaryFolder().path], expect: 0)
        #expect(visualize != nil)
        let info = try check(["image", "info", fifo], expect: 1)
        #expect(info?.stderr.contains("not a regular file") == true, "\(info?.stderr ?? "")")
        #expect(Date().timeIntervalSince(started) < 60)

        let sparse = folder.appendingPathComponent("huge.jpg")
        #expect(FileManager.default.createFile(atPath: sparse.path, contents: Data([0xFF, 0xD8, 0xFF])))
        let handle = try FileHandle(forWritingTo: sparse)
        try handle.truncate(atOffset: 30 << 30)
        try handle.close()
        let huge = try check(["image", "info", sparse.path], expect: 1)
        #expect(huge?.stderr.contains("larger than the 1.0 GiB limit") == true, "\(huge?.stderr ?? "")")
        #expect(huge?.stderr.contains("NSCocoaErrorDomain") == false)
        try FileManager.default.removeItem(at: sparse)
    }

    @Test("issue 11: a config nested 50,000 deep is refused, not a segfault")
    func deepConfig() throws {
        let file = try config(String(repeating: "{a:", count: 50_000) + "1" + String(repeating: "}", count: 50_000))
        let result = try check(["run", file], expect: 1)
        #expect(result?.stderr.contains("nest more than 256 levels") == true, "\(result?.stderr ?? "")")
    }

    @Test("issue 11: non-finite and negative settings, bad filters and photo folders are usage errors before any work", arguments: [
        (["visualize", "--layer", "conv1_1", "--lr", "inf"], "--lr"),
        (["visualize", "--layer", "conv1_1", "--lr", "nan"], "--lr"),
        (["visualize", "--layer", "conv1_1", "--steps", "-3"], "--steps must be at least 1, got -3"),
        (["visualize", "--layer", "conv1_1", "--size", "-3"], "--size -3 is too small"),
        (["visualize", "--layer", "conv1_1", "--photos", "/nonexistent"], "/nonexistent"),
        (["visualize", "--layer", "conv1_1", "--filters", "60-70"], "0-63"),
        (["visualize", "--layer", "conv1_1", "--filters", "x"], "'x'"),
        (["patches", "--layers", "conv1_1", "--top", "100000", "--images", "/tmp"], "--top 991 or less"),
        (["patches", "--layers", "conv1_1", "--per-image", "-1", "--images", "/tmp"], "--per-image"),
        (["card", "--layer", "conv1_1", "--filter", "-1", "--images", "/tmp"], "--filter must be 0 or more"),
    ])
    func usageErrors(arguments: [String], mentions: String) throws {
        let out = arguments[0] == "card" ? temporaryFolder().appendingPathComponent("c.png").path : temporaryFolder().path
        let result = try check(arguments + ["--out", out], expect: 2)
        #expect(result?.stderr.contains(mentions) == true, "\(result?.stderr ?? "")")
        #expect(result?.stderr.split(separator: "\n").count == 1, "\(result?.stderr ?? "")")
    }
}
