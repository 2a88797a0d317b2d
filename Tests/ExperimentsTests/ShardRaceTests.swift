@testable import Experiments
import FileOutput
import Foundation
import Testing
import Visualization

/// Shards that finish at the same moment on a shared folder: the report is written once, atomically, and a
/// shard killed while assembling leaves nothing behind that the others do not repair.
///
/// Real processes (the built CLI, FILTERVIS_BIN), since a lock between threads of one process proves nothing
/// about processes, and SIGKILL needs one.
@Suite(.serialized) struct ShardRaceTests {
    static var binary: URL? {
        if let path = ProcessInfo.processInfo.environment["FILTERVIS_BIN"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/release/filtervis")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// The pinned experiment's config as a file, and the tree of one unsharded in-process run (the reference).
    static func setUp(_ name: String) throws -> (config: URL, reference: TreeDigest, dir: URL) {
        let base = try ExperimentRunTests.freshFolder("race-\(name)")
        let config = base.appendingPathComponent("pinned.json5")
        try Data(ExperimentRunTests.pinnedConfig.utf8).write(to: config)
        let whole = base.appendingPathComponent("whole")
        try ExperimentRunTests.run(into: whole)
        return (config, try TreeDigest(whole), base.appendingPathComponent("sharded"))
    }

    /// A running `filtervis run CONFIG --shard i/n --out DIR`, its stderr collected in a file.
    final class ShardProcess {
        let process = Process()
        let log: URL
        init(binary: URL, config: URL, shard: String, out: URL) throws {
            log = out.deletingLastPathComponent().appendingPathComponent("shard-\(shard.replacingOccurrences(of: "/", with: "of"))-\(UUID().uuidString.prefix(6)).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = binary
            process.arguments = ["run", config.path, "--shard", shard, "--out", out.path, "--threads", "1"]
            process.standardError = try FileHandle(forWritingTo: log)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }
        func wait() -> String {
            process.waitUntilExit()
            return (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        var wroteReport: Bool { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("run: wrote ") }
    }

    static func startShards(_ binary: URL, config: URL, out: URL, count: Int = 4) throws -> [ShardProcess] {
        try (0..<count).map { try ShardProcess(binary: binary, config: config, shard: "\($0)/\(count)", out: out) }
    }

    /// Deletes everything but config.json and the units' own files and records: the state in which every shard's
    /// last unit is done and all of them go on to assemble at once.
    static func removeReport(_ dir: URL) throws {
        let store = ExperimentStore(root: dir)
        var keep: Set<String> = ["config.json"]
        for record in try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("units").path) {
            keep.insert("units/\(record)")
            if !record.hasSuffix(".timing.json") {
                keep.formUnion(try store.readJSON(UnitRecord.self, from: "units/\(record)").files.keys)
            }
        }
        for file in try allFiles(dir) where !keep.contains(file) { try FileManager.default.removeItem(at: dir.appendingPathComponent(file)) }
    }

    static func allFiles(_ dir: URL) throws -> [String] {
        FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }.filter { file in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    /// Temporaries and locks: none may be left once every shard has exited.
    static func leftovers(_ dir: URL) throws -> [String] {
        try allFiles(dir).filter { ($0 as NSString).lastPathComponent.hasPrefix(".") }
    }

    @Test func fourShardsFinishingTogetherWriteTheReportOnce() throws {
        guard let binary = Self.binary else { Issue.record("filtervis binary not found: build it or set FILTERVIS_BIN"); return }
        let (config, reference, dir) = try Self.setUp("together")
        // Round 0 computes the units in four processes at once; rounds 1-3 start with every unit done, so the four
        // go straight to assembling at the same moment.
        for round in 0..<4 {
            if round > 0 { try Self.removeReport(dir) }
            let shards = try Self.startShards(binary, config: config, out: dir)
            let logs = shards.map { $0.wait() }
            for (shard, log) in zip(shards, logs) {
                #expect(shard.process.terminationStatus == 0, "round \(round): \(log)")
            }
            let writers = shards.filter(\.wroteReport).count
            if round > 0 {
                #expect(writers == 1, "round \(round): \(writers) shards wrote the report:\n\(logs.joined(separator: "\n---\n"))")
                let others = logs.filter { $0.contains("already assembled from these units") }.count
                #expect(others == 3, "round \(round): the others should find the report current:\n\(logs.joined(separator: "\n---\n"))")
            } else {
                #expect(writers >= 1)
            }
            let tree = try TreeDigest(dir)
            #expect(tree.hashes == reference.hashes, "round \(round) differs: \(tree.differences(from: reference))")
            let left = try Self.leftovers(dir)
            #expect(left.isEmpty, "round \(round) left \(left)")
        }
    }

    @Test func aShardKilledWhileAssemblingIsReplacedByAnother() throws {
        guard let binary = Self.binary else { Issue.record("filtervis binary not found: build it or set FILTERVIS_BIN"); return }
        let (config, reference, dir) = try Self.setUp("killed")
        try Self.startShards(binary, config: config, out: dir).forEach { _ = $0.wait() }
        let lock = dir.appendingPathComponent(AssemblyLock.fileName)
        var killed = false
        for _ in 0..<5 where !killed {
            try Self.removeReport(dir)
            let shards = try Self.startShards(binary, config: config, out: dir)
            // Kill whichever process takes the lock, the moment it holds it.
            let deadline = Date().addingTimeInterval(60)
            while !killed, Date() < deadline, shards.contains(where: \.process.isRunning) {
                if let data = FileManager.default.contents(atPath: lock.path),
                   let holder = try? OutputJSON.decode(AssemblyLock.Owner.self, from: data, file: "lock"),
                   let victim = shards.first(where: { $0.process.processIdentifier == holder.pid }) {
                    kill(holder.pid, SIGKILL)
                    victim.process.waitUntilExit()
                    killed = true
                }
                usleep(500)
            }
            let logs = shards.map { $0.wait() }
            for shard in shards where shard.process.terminationReason == .exit {
                #expect(shard.process.terminationStatus == 0, "\(logs.joined(separator: "\n---\n"))")
            }
            guard killed else { continue }
            #expect(shards.filter { $0.process.terminationReason == .uncaughtSignal }.count == 1)
            let tree = try TreeDigest(dir)
            #expect(tree.hashes == reference.hashes, "differs after the kill: \(tree.differences(from: reference))")
            let left = try Self.leftovers(dir)
            #expect(left.isEmpty, "left \(left)")
        }
        #expect(killed, "no shard was seen holding the assembly lock")
    }

    // MARK: The lock and the clean-up, one at a time

    @Test func abandonedTemporariesAndADeadHoldersLockAreCleared() throws {
        let (_, reference, _) = try Self.setUp("abandoned")
        let dir = try ExperimentRunTests.freshFolder("race-abandoned/run")
        try ExperimentRunTests.run(into: dir)
        try Self.removeReport(dir)
        let host = TemporaryFiles.host
        let dead = try Self.deadPID()
        // A killed writer's half-written report file and a lock it held, both from a dead process on this host.
        let planted = [".index.html.\(host).\(dead).12345.tmp", "conv2_1/.grid-keras2016-seed0.png.\(host).\(dead).7.tmp"]
        for file in planted { try Data("partial".utf8).write(to: dir.appendingPathComponent(file)) }
        let owner = AssemblyLock.Owner(host: host, pid: dead, token: 1)
        try Data(try ExperimentStore.json(owner)).write(to: dir.appendingPathComponent(AssemblyLock.fileName))
        // A live writer's temporary (this process) and a fresh one from another machine must stay.
        let live = ".config.json.\(host).\(getpid()).9.tmp", foreign = ".index.html.other-node.4242.9.tmp"
        for file in [live, foreign] { try Data("in progress".utf8).write(to: dir.appendingPathComponent(file)) }

        let runner = ExperimentRunner(plan: try ExperimentRunTests.plan(), output: dir)
        let start = Date()
        #expect(try runner.assemble(force: false))
        #expect(Date().timeIntervalSince(start) < 30, "the dead holder's lock should be broken at once")
        #expect(try Self.leftovers(dir).sorted() == [live, foreign].sorted())
        for file in [live, foreign] { try FileManager.default.removeItem(at: dir.appendingPathComponent(file)) }
        let tree = try TreeDigest(dir)
        #expect(tree.hashes == reference.hashes, "differs: \(tree.differences(from: reference))")
        #expect(runner.reportIsCurrent())
        #expect(try runner.assemble(force: false) == false)  // current: left alone
    }

    @Test func temporariesAreAbandonedOnlyWhenTheirWriterIsGoneOrTheyAreOld() throws {
        let host = TemporaryFiles.host, now = Date()
        #expect(TemporaryFiles.isAbandoned(".a.png.\(host).\(try Self.deadPID()).1.tmp", modified: now))
        #expect(!TemporaryFiles.isAbandoned(".a.png.\(host).\(getpid()).1.tmp", modified: now.addingTimeInterval(-86400)))
        #expect(!TemporaryFiles.isAbandoned(".a.png.node7.cluster.1234.1.tmp", modified: now.addingTimeInterval(-60)))
        #expect(TemporaryFiles.isAbandoned(".a.png.node7.cluster.1234.1.tmp", modified: now.addingTimeInterval(-3600)))
        #expect(!TemporaryFiles.isTemporary("index.html") && !TemporaryFiles.isTemporary(AssemblyLock.fileName))
        // AtomicFile's names (`.NAME.tmp-PID-HEX`) carry no host: on a shared file system only their age counts.
        let atomic = ".a.png.tmp-\(try Self.deadPID())-1f"
        #expect(TemporaryFiles.isTemporary(atomic) && !TemporaryFiles.isTemporary(".a.png.tmp-x-1f"))
        #expect(!TemporaryFiles.isAbandoned(atomic, modified: now.addingTimeInterval(-60)))
        #expect(TemporaryFiles.isAbandoned(atomic, modified: now.addingTimeInterval(-3600)))
    }

    @Test func aWaiterWaitsWhileTheHolderBeatsAndBreaksALockThatStopped() throws {
        let dir = try ExperimentRunTests.freshFolder("race-lock")
        // A live holder (heartbeat every 0.1 s) is waited for even though the waiter calls 0.5 s of silence stale.
        let holder = try AssemblyLock.acquire(in: dir, heartbeat: 0.1)
        let released = Date().addingTimeInterval(1.5)
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { holder.release() }
        var waited = false
        let second = try AssemblyLock.acquire(in: dir, staleAfter: 0.5, poll: 0.02) { _ in waited = true }
        #expect(waited)
        #expect(Date() >= released.addingTimeInterval(-0.05), "took a lock whose holder was alive and beating")
        second.release()
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(AssemblyLock.fileName).path))

        // A lock from another machine that stops changing is broken after staleAfter.
        let stale = AssemblyLock.Owner(host: "other-node", pid: 1, token: 7)
        try Data(try ExperimentStore.json(stale)).write(to: dir.appendingPathComponent(AssemblyLock.fileName))
        let start = Date()
        let third = try AssemblyLock.acquire(in: dir, staleAfter: 0.5, poll: 0.02)
        let took = Date().timeIntervalSince(start)
        #expect(took >= 0.5 && took < 10, "took \(took) s")
        third.release()
        #expect(try Self.leftovers(dir).isEmpty)
    }

    /// The pid of a process that has exited and been reaped.
    static func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
