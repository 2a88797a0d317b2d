import Foundation
import ImageIO
import Testing

/// A run's outputs are replaced as a whole (issue 11 §4/§5): a rerun that fails on a full disk or is killed with
/// SIGKILL leaves the earlier complete run byte-identical and no partial file in the output folder; a smaller rerun
/// leaves none of a larger one's files; temporaries of a killed run are removed by the next run; a folder holding
/// files filtervis did not write is refused.
@Suite("Outputs are replaced as a whole: failed, killed and smaller reruns", .serialized)
struct AtomicOutputTests {
    static func visualize(_ out: URL, filters: String, size: Int, seed: Int, steps: Int = 4) -> [String] {
        ["visualize", "--layer", "conv2_1", "--filters", filters, "--size", "\(size)", "--steps", "\(steps)", "--batch", "8",
         "--seed", "\(seed)", "--threads", "2", "--no-photo-baseline", "--out", out.path]
    }

    static func patches(_ out: URL, photos: URL, layer: String = "conv1_1", filters: String, top: Int, crops: Bool) -> [String] {
        ["patches", "--layers", layer, "--filters", filters, "--top", "\(top)", "--scales", "64", "--images", photos.path,
         "--threads", "2", "--out", out.path] + (crops ? ["--save-crops"] : [])
    }

    /// Runs and expects success.
    @discardableResult
    func succeed(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        guard let result = try CLI.run(arguments, sourceLocation: sourceLocation) else { return false }
        #expect(result.exitedNormally && result.status == 0, "\(arguments.prefix(1)): exit \(result.status): \(result.stderr)",
                sourceLocation: sourceLocation)
        return result.status == 0
    }

    @Test("A smaller rerun leaves none of a larger earlier run's files (visualize and patches)")
    func smallerRerun() throws {
        let parent = temporaryFolder(), out = parent.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: parent) }
        guard try succeed(Self.visualize(out, filters: "0-5", size: 32, seed: 1)) else { return }
        try succeed(Self.visualize(out, filters: "1,2", size: 32, seed: 1))
        #expect(OutputFixtures.listing(out) == ["filter_0001.png", "filter_0002.png", "grid.png", "manifest.json"])
        #expect(OutputFixtures.listing(parent) == ["out"], "left beside --out")

        let photos = temporaryFolder(), patchesOut = parent.appendingPathComponent("patches")
        defer { try? FileManager.default.removeItem(at: photos) }
        try OutputFixtures.photos(count: 4, in: photos)
        try succeed(Self.patches(patchesOut, photos: photos, filters: "0-7", top: 2, crops: true))
        #expect(try OutputFixtures.snapshot(patchesOut).count == 1 + 1 + 8 + 16)
        try succeed(Self.patches(patchesOut, photos: photos, filters: "0-1", top: 2, crops: false))
        #expect(try OutputFixtures.snapshot(patchesOut).keys.sorted()
                == ["conv1_1/filter_0000.png", "conv1_1/filter_0001.png", "conv1_1/gallery.png", "index.json"])
        #expect(OutputFixtures.listing(parent) == ["out", "patches"], "left beside --out")
    }

    @Test("A folder holding files filtervis did not write is refused before any work and left as it was")
    func foreignFilesAreRefused() throws {
        let parent = temporaryFolder(), out = parent.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: parent) }
        try FileManager.default.createDirectory(at: out.appendingPathComponent("conv1_1"), withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: out.appendingPathComponent("filter_0000.png"))
        try Data("mine".utf8).write(to: out.appendingPathComponent("conv1_1/notes.txt"))
        let before = try OutputFixtures.snapshot(out)
        let photos = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: photos) }
        try OutputFixtures.photos(count: 1, in: photos)
        let photo = photos.appendingPathComponent("p00.png").path
        for (arguments, named) in [(Self.visualize(out, filters: "0", size: 32, seed: 1), "conv1_1"),
                                   (Self.patches(out, photos: photos, filters: "0", top: 1, crops: false), "conv1_1/notes.txt"),
                                   (["featuremaps", "--layer", "conv1_1", "--image", photo, "--out", out.path], "conv1_1")] {
            guard let result = try CLI.run(arguments) else { return }
            #expect(result.exitedNormally && result.status == 1, "\(arguments[0]): exit \(result.status)")
            let line = OutputFixtures.errorLine(result.stderr)
            #expect(line?.contains(out.path) == true && line?.contains(named) == true && line?.contains("did not write") == true,
                    "\(arguments[0]): \(result.stderr)")
            #expect(try OutputFixtures.snapshot(out) == before, "\(arguments[0]) changed a refused folder")
            #expect(OutputFixtures.listing(parent) == ["out"])
        }
    }

    @Test("Temporaries of a killed run are removed by the next run; an earlier folder it had moved aside comes back")
    func killedRunsAreCleanedUp() throws {
        let parent = temporaryFolder(), out = parent.appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: parent) }
        let photos = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: photos) }
        try OutputFixtures.photos(count: 1, in: photos)
        guard try succeed(["featuremaps", "--layer", "conv1_1", "--image", photos.appendingPathComponent("p00.png").path,
                           "--size", "32", "--tile", "8", "--out", out.path]) else { return }
        let earlier = try OutputFixtures.snapshot(out)
        // What a run killed between its two renames leaves: the earlier folder moved aside, the new one staged.
        let dead = try OutputFixtures.endedProcessID()
        try FileManager.default.moveItem(at: out, to: parent.appendingPathComponent(".out.old-\(dead)-1f"))
        let staged = parent.appendingPathComponent(".out.tmp-\(dead)-2e")
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: staged.appendingPathComponent("input.png"))
        // A temporary of a process that still runs (this one) is not touched.
        let live = parent.appendingPathComponent(".out.tmp-\(getpid())-3d")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        // A run that fails after preparing the folder (the photo is not an image): the earlier outputs come back.
        let corrupt = parent.appendingPathComponent("corrupt.png")
        try Data("not a png".utf8).write(to: corrupt)
        guard let result = try CLI.run(["featuremaps", "--layer", "conv1_1", "--image", corrupt.path, "--out", out.path]) else { return }
        #expect(result.exitedNormally && result.status == 1, "\(result.stderr)")
        #expect(try OutputFixtures.snapshot(out) == earlier)
        #expect(OutputFixtures.listing(parent) == [".out.tmp-\(getpid())-3d", "corrupt.png", "out"])

        // A single output file: a killed writer's temporary beside it is removed by the next write.
        let leftover = parent.appendingPathComponent(".grid.png.tmp-\(dead)-4c")
        try Data("half".utf8).write(to: leftover)
        try succeed(["image", "grid", parent.appendingPathComponent("grid.png").path, photos.appendingPathComponent("p00.png").path])
        #expect(OutputFixtures.listing(parent) == [".out.tmp-\(getpid())-3d", "corrupt.png", "grid.png", "out"])
    }

    // MARK: A full disk (a small tmpfs, as root)

    @Test("A rerun that fills the disk exits 1 naming the folder; the earlier run stays byte-identical, nothing partial is left")
    func fullDisk() throws {
        let disk = try SmallDisk.mount(size: "3m")
        defer { disk.unmount() }
        let photos = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: photos) }
        try OutputFixtures.photos(count: 4, in: photos)
        let vis = disk.root.appendingPathComponent("vis"), pat = disk.root.appendingPathComponent("pat")
        let picture = disk.root.appendingPathComponent("picture.png")
        guard try succeed(Self.visualize(vis, filters: "0-3", size: 32, seed: 1)),
              try succeed(Self.patches(pat, photos: photos, filters: "0-3", top: 2, crops: false)),
              try succeed(["image", "convert", photos.appendingPathComponent("p00.png").path, picture.path]) else { return }
        let earlier = [vis: try OutputFixtures.snapshot(vis), pat: try OutputFixtures.snapshot(pat)]
        let earlierPicture = try Data(contentsOf: picture)
        // Room for a few files of the new runs, not for all: each fails midway.
        try disk.fill(leaving: 48 * 1024)
        let runs: [(URL, [String])] = [
            (vis, Self.visualize(vis, filters: "0-15", size: 64, seed: 2)),
            (pat, Self.patches(pat, photos: photos, filters: "0-31", top: 3, crops: true)),
            (picture, ["image", "convert", photos.appendingPathComponent("p00.png").path, picture.path, "--resize", "512x512"]),
        ]
        for (target, arguments) in runs {
            guard let result = try CLI.run(arguments) else { return }
            #expect(result.exitedNormally && result.status == 1, "\(arguments[0]): exit \(result.status): \(result.stderr)")
            let line = OutputFixtures.errorLine(result.stderr)
            let folder = target == picture ? disk.root.path : target.path
            #expect(line?.contains(folder) == true && line?.contains("disk is full") == true, "\(arguments[0]): \(result.stderr)")
            if let files = earlier[target] {
                #expect(try OutputFixtures.snapshot(target) == files, "\(arguments[0]) changed the earlier outputs")
            } else {
                #expect(try Data(contentsOf: picture) == earlierPicture, "image convert changed the earlier file")
            }
            #expect(OutputFixtures.listing(disk.root) == ["filler", "pat", "picture.png", "vis"], "partial files left")
        }
        // The mount point itself cannot be renamed: refused before any work.
        guard let mounted = try CLI.run(Self.visualize(disk.root, filters: "0", size: 32, seed: 1)) else { return }
        #expect(mounted.status == 1 && OutputFixtures.errorLine(mounted.stderr)?.contains("mount point") == true, "\(mounted.stderr)")
        // With space again, the same rerun succeeds and leaves nothing beside its folder.
        try FileManager.default.removeItem(at: disk.root.appendingPathComponent("filler"))
        try succeed(runs[0].1)
        #expect(OutputFixtures.listing(vis).count == 16 + 2)
        #expect(OutputFixtures.listing(disk.root) == ["pat", "picture.png", "vis"])
    }

    // MARK: kill -9

    /// Where a kill lands: once the progress shows work has started, or once the run has written `files` entries of
    /// its outputs (into its staging folder, or, if it wrote in place, anything changed in --out).
    enum KillPoint: CustomStringConvertible {
        case working
        case writing(files: Int)

        var description: String {
            switch self { case .working: "working"; case .writing(let files): "writing (\(files) written)" }
        }

        func reached(_ run: BackgroundRun, out: URL, earlier: [String: Data]) -> Bool {
            switch self {
            case .working: return run.stderr.contains("% (")
            case .writing(let files):
                let parent = out.deletingLastPathComponent()
                let staged = OutputFixtures.listing(parent).contains { entry in
                    entry.hasPrefix(".\(out.lastPathComponent).tmp-")
                        && OutputFixtures.listing(parent.appendingPathComponent(entry)).count >= files
                }
                return staged || (try? OutputFixtures.snapshot(out)) != earlier
            }
        }
    }

    /// Starts `arguments` (writing into `out`, which holds `earlier`), SIGKILLs it at each point, and checks that
    /// `out` still holds exactly `earlier`; then the uninterrupted rerun must give `reference` and remove all
    /// temporaries. Returns the points at which a kill landed while the run was still working.
    func killAtPoints(_ arguments: [String], out: URL, earlier: [String: Data], reference: [String: Data],
                      points: [KillPoint]) throws -> [String] {
        var landed: [String] = []
        for point in points {
            for _ in 0..<3 where !landed.contains(point.description) {
                let run = try BackgroundRun(arguments)
                let reached = run.wait(until: { point.reached(run, out: out, earlier: earlier) })
                let killed = run.kill9()
                if reached && killed {
                    landed.append(point.description)
                    #expect(try OutputFixtures.snapshot(out) == earlier, "killed while \(point): --out changed")
                } else if !killed {
                    // It finished before the kill: then --out must be the complete new run; put the earlier one back.
                    #expect(run.process.terminationStatus == 0, "\(run.stderr)")
                    #expect(try OutputFixtures.comparable(OutputFixtures.snapshot(out)) == reference)
                    try FileManager.default.removeItem(at: out)
                    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    for (path, data) in earlier {
                        let url = out.appendingPathComponent(path)
                        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                        try data.write(to: url)
                    }
                }
            }
        }
        try succeed(arguments)
        #expect(try OutputFixtures.comparable(OutputFixtures.snapshot(out)) == reference, "the rerun after kills differs from a clean run")
        #expect(OutputFixtures.listing(out.deletingLastPathComponent()) == [out.lastPathComponent], "temporaries left")
        return landed
    }

    @Test("kill -9 in the middle of visualize: the earlier run stays whole, no partial file, the rerun gives the same bytes")
    func killVisualize() throws {
        let parent = temporaryFolder(), reference = temporaryFolder().appendingPathComponent("ref")
        defer { try? FileManager.default.removeItem(at: parent); try? FileManager.default.removeItem(at: reference.deletingLastPathComponent()) }
        let out = parent.appendingPathComponent("out")
        let arguments = Self.visualize(out, filters: "0-23", size: 48, seed: 2, steps: 6)
        guard try succeed(Self.visualize(reference, filters: "0-23", size: 48, seed: 2, steps: 6)),
              try succeed(Self.visualize(out, filters: "0-7", size: 32, seed: 1)) else { return }
        let landed = try killAtPoints(
            arguments, out: out, earlier: try OutputFixtures.snapshot(out),
            reference: try OutputFixtures.comparable(OutputFixtures.snapshot(reference)),
            points: [.working, .writing(files: 1), .writing(files: 12)])
        #expect(landed.contains("working") && landed.contains("writing (1 written)"), "kills that landed mid-run: \(landed)")
    }

    @Test("kill -9 in the middle of patches: the earlier run stays whole, no partial file, the rerun gives the same bytes")
    func killPatches() throws {
        let parent = temporaryFolder(), reference = temporaryFolder().appendingPathComponent("ref"), photos = temporaryFolder()
        defer {
            for url in [parent, reference.deletingLastPathComponent(), photos] { try? FileManager.default.removeItem(at: url) }
        }
        try OutputFixtures.photos(count: 16, in: photos)
        let out = parent.appendingPathComponent("out")
        let arguments = Self.patches(out, photos: photos, layer: "conv2_1", filters: "0-31", top: 3, crops: true)
        guard try succeed(Self.patches(reference, photos: photos, layer: "conv2_1", filters: "0-31", top: 3, crops: true)),
              try succeed(Self.patches(out, photos: photos, filters: "0-3", top: 2, crops: false)) else { return }
        let landed = try killAtPoints(
            arguments, out: out, earlier: try OutputFixtures.snapshot(out),
            reference: try OutputFixtures.comparable(OutputFixtures.snapshot(reference)),
            points: [.working, .writing(files: 1)])
        #expect(landed.contains("writing (1 written)"), "kills that landed mid-run: \(landed)")
    }
}
