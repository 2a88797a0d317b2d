import Foundation
import ImageIO
import Testing

/// Helpers for the output-replacement tests: folder snapshots, synthetic photos, a small tmpfs, a killable run.
enum OutputFixtures {
    /// Every file under `folder` (hidden ones too), by path relative to it, with its bytes.
    static func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        func walk(_ url: URL, _ prefix: String) throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
                let child = url.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory)
                if isDirectory.boolValue { try walk(child, prefix + name + "/") } else { files[prefix + name] = try Data(contentsOf: child) }
            }
        }
        try walk(folder, "")
        return files
    }

    /// The same files with the one value that differs between identical runs (wall time) removed from the JSON.
    static func comparable(_ files: [String: Data]) throws -> [String: Data] {
        try files.mapValues { data in
            guard var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return data }
            object["wall_seconds"] = nil
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
    }

    static func listing(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    /// `count` noise photos (PNG, 80 x 64) from a fixed generator, so every run sees the same pixels.
    static func photos(count: Int, in folder: URL) throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in 0..<count {
            var pixels = [UInt8](repeating: 0, count: 80 * 64 * 3)
            for k in pixels.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                pixels[k] = UInt8(truncatingIfNeeded: state >> 56)
            }
            try Image(width: 80, height: 64, channels: 3, pixels: pixels).write(to: folder.appendingPathComponent(String(format: "p%02d.png", i)))
        }
    }

    /// The one "filtervis: error:" line of stderr (nil unless there is exactly one).
    static func errorLine(_ stderr: String) -> String? {
        let lines = stderr.split(separator: "\n").filter { $0.hasPrefix("filtervis: error:") }
        return lines.count == 1 ? String(lines[0]) : nil
    }

    /// A process id that has ended (a finished /bin/true), for faking what a killed run left behind.
    static func endedProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// Runs a system tool, returning its exit status.
    @discardableResult
    static func system(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A small tmpfs mounted for one test (root only): a disk that can be filled in a moment.
struct SmallDisk {
    let root: URL

    /// Mounts `size` (mount's syntax: "3m") or cancels the test, saying why, when not root or the mount fails.
    static func mount(size: String) throws -> SmallDisk {
        guard geteuid() == 0 else { try Test.cancel("skipped: mounting a tmpfs needs root") }
        let root = temporaryFolder()
        guard OutputFixtures.system(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", root.path]) == 0 else {
            try Test.cancel("skipped: `mount -t tmpfs -o size=\(size) tmpfs \(root.path)` failed (no CAP_SYS_ADMIN in this container?)")
        }
        return SmallDisk(root: root)
    }

    func unmount() {
        OutputFixtures.system(["umount", root.path])
        try? FileManager.default.removeItem(at: root)
    }

    var freeBytes: Int {
        var info = statvfs()
        guard statvfs(root.path, &info) == 0 else { return 0 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Fills the disk with one file until only `free` bytes are left.
    func fill(leaving free: Int) throws {
        try Data(count: max(0, freeBytes - free)).write(to: root.appendingPathComponent("filler"))
    }
}

/// A `filtervis` run in the background, stderr into a file, that a test can watch and SIGKILL.
final class BackgroundRun {
    let process = Process()
    private let log: URL

    init(_ arguments: [String]) throws {
        let binary = try CLI.checkedBinary.get()
        log = temporaryFolder().appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
    }

    var stderr: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Polls (every millisecond, for at most `timeout` seconds) until `condition` holds or the process ends;
    /// true if the condition held while it still ran.
    func wait(until condition: () -> Bool, timeout: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            if condition() { return true }
            usleep(1000)
        }
        return false
    }

    /// SIGKILL, then reaps; true if the kill is what ended it.
    @discardableResult
    func kill9() -> Bool {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }
}

struct CLIBinaryMissing: Error, CustomStringConvertible {
    var description: String { "filtervis binary not found or stale: run `make build` (or set FILTERVIS_BIN)" }
}
