import FileOutput
import Foundation
import Visualization
#if canImport(Glibc)
import Glibc
#endif

/// One report assembler at a time per experiment folder, across processes and machines sharing the folder.
///
/// The lock is `.assembly.lock`, made by hard-linking a complete temporary file to that name: link(2) fails when
/// the name exists, atomically, on local file systems and on NFS, and the lock never exists half-written. The
/// holder refreshes its mtime every `heartbeat` seconds. A waiter breaks the lock when its holder is a dead
/// process on this host, or when the lock has not changed for `staleAfter` seconds by the waiter's own clock (no
/// clock is compared across machines). Breaking renames the lock aside (one waiter wins the rename) and checks
/// that the renamed file is the stale one. Assembly is pure, so even two assemblers after a wrongly broken lock
/// write the same bytes; the lock keeps the winner's manifest.json (its timings) intact.
/// Sendable: its properties are constants, and a Dispatch timer may be cancelled from any thread.
final class AssemblyLock: @unchecked Sendable {
    static let fileName = ".assembly.lock"

    /// Who holds a lock: written into it, so waiters can name the holder and check it is alive.
    struct Owner: OutputDocument, Equatable, CustomStringConvertible {
        static let schema = "filtervis.experiment.assembly-lock/2"
        var host: String
        var pid: Int32
        var token: UInt64
        var description: String { "process \(pid) on \(host)" }

        static func current() -> Owner {
            Owner(host: TemporaryFiles.host, pid: getpid(), token: UInt64.random(in: 1...UInt64.max))
        }

        /// False only when we can tell: the process is on this host and gone (or a zombie).
        var mayBeAlive: Bool {
            guard host == TemporaryFiles.host else { return true }
            return TemporaryFiles.processAlive(pid)
        }
    }

    let url: URL
    let owner: Owner
    private let heartbeatTimer: DispatchSourceTimer

    private init(url: URL, owner: Owner, heartbeat: Double) {
        self.url = url
        self.owner = owner
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        let path = url.path
        timer.schedule(deadline: .now() + heartbeat, repeating: heartbeat)
        timer.setEventHandler { _ = utimes(path, nil) }  // NULL: the server's "now" on NFS
        timer.resume()
        heartbeatTimer = timer
    }

    deinit { heartbeatTimer.cancel() }

    /// Takes the lock of the folder `root`, waiting (and breaking stale locks) as needed. `onWait` is called once
    /// with the current holder when the lock is busy.
    static func acquire(in root: URL, staleAfter: Double = 60, heartbeat: Double = 5, poll: Double = 0.1,
                        onWait: (Owner) -> Void = { _ in }) throws -> AssemblyLock {
        let url = root.appendingPathComponent(fileName)
        let me = Owner.current()
        let content = try OutputJSON.encode(me)
        var told = false
        // What the waiter saw last (content and mtime) and since when, by its own monotonic clock.
        var seen: (Data, Double)?
        var seenSince = DispatchTime.now()
        while true {
            if try tryCreate(url, content: content, owner: me) { return AssemblyLock(url: url, owner: me, heartbeat: heartbeat) }
            guard let (data, mtime) = snapshot(url) else { continue }  // released meanwhile: try again at once
            let holder = try? OutputJSON.decode(Owner.self, from: data, file: url.path)
            if let holder, !told { onWait(holder); told = true }
            if seen == nil || seen!.0 != data || seen!.1 != mtime { (seen, seenSince) = ((data, mtime), .now()) }
            let unchanged = Double(DispatchTime.now().uptimeNanoseconds - seenSince.uptimeNanoseconds) / 1e9
            if holder.map({ !$0.mayBeAlive }) ?? false || unchanged > staleAfter {
                breakLock(url, stale: data)
                seen = nil
                continue
            }
            usleep(UInt32(poll * 1e6))
        }
    }

    /// Removes the lock if it is still ours (a waiter may have broken it after a long stall).
    func release() {
        heartbeatTimer.cancel()
        if let (data, _) = Self.snapshot(url), (try? OutputJSON.decode(Owner.self, from: data, file: url.path)) == owner {
            unlink(url.path)
        }
    }

    // MARK: Steps

    /// Links a complete temporary file to the lock's name; true when this process now holds the lock.
    private static func tryCreate(_ url: URL, content: [UInt8], owner: Owner) throws -> Bool {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent("\(fileName).\(owner.host).\(owner.pid).\(owner.token).tmp")
        do { try Data(content).write(to: temporary) } catch {
            throw ExperimentError.lock(file: temporary.path, reason: "cannot create the assembly lock (\(error.localizedDescription)); is the folder writable?")
        }
        defer { unlink(temporary.path) }
        if link(temporary.path, url.path) == 0 { return true }
        let failure = errno
        // NFS may report a failed link that did happen (a lost reply): the link count tells.
        var info = stat()
        if stat(temporary.path, &info) == 0, info.st_nlink == 2 { return true }
        guard failure == EEXIST || failure == EINTR || failure == EIO else {
            throw ExperimentError.lock(file: url.path, reason: "cannot create the assembly lock: \(String(cString: strerror(failure)))")
        }
        return false
    }

    /// The lock's bytes and mtime (open + fstat, so NFS revalidates the cached attributes), or nil when absent.
    private static func snapshot(_ url: URL) -> (Data, Double)? {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        let data = (try? handle.readToEnd()) ?? Data()
        return (data, Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    /// Moves a stale lock aside (only one waiter's rename can succeed) and deletes it; puts it back if what was
    /// moved is not the stale lock but a fresh one taken meanwhile.
    private static func breakLock(_ url: URL, stale: Data) {
        let aside = url.deletingLastPathComponent().appendingPathComponent(
            "\(fileName).broken.\(TemporaryFiles.host).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        guard rename(url.path, aside.path) == 0 else { return }
        if let (data, _) = snapshot(aside), data != stale { _ = link(aside.path, url.path) }  // fails if yet another lock exists
        unlink(aside.path)
    }
}

/// The temporary files of atomic writes (the lock's `.NAME.HOST.PID.RANDOM.tmp`, `AtomicFile`'s `TemporaryName`s)
/// left by processes that were killed mid-write.
enum TemporaryFiles {
    static let host = ProcessInfo.processInfo.hostName

    /// Temporaries older than this are garbage even when we cannot check their process (another host).
    static let abandonedAfter: TimeInterval = 15 * 60

    static func processAlive(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        // A killed child its parent has not reaped yet still answers kill(0): its state in /proc tells.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z" && state != "X"
        }
        return true
    }

    /// The lock's own temporaries (`.NAME.HOST.PID.RANDOM.tmp`) and those of `AtomicFile` (`TemporaryName`).
    static func isTemporary(_ name: String) -> Bool {
        (name.hasPrefix(".") && name.hasSuffix(".tmp")) || TemporaryName.isTemporary(name)
    }

    /// Whether a temporary file is abandoned: its writer (named in it with its host) is a dead process on this
    /// host, or it is older than `abandonedAfter`. `AtomicFile`'s names carry no host, and on a shared file
    /// system a process id says nothing about another machine's writer, so those go by age alone.
    static func isAbandoned(_ name: String, modified: Date?, now: Date = Date()) -> Bool {
        let parts = name.dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        if parts.count >= 3, let pid = Int32(parts[parts.count - 2]),
           name.contains(".\(host).\(pid).") {
            return !processAlive(pid)
        }
        return modified.map { now.timeIntervalSince($0) > abandonedAfter } ?? false
    }

    /// Deletes the abandoned temporaries under `root`; returns their relative paths.
    @discardableResult
    static func removeAbandoned(under root: URL) -> [String] {
        guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.contentModificationDateKey, .isRegularFileKey]) else { return [] }
        var removed: [String] = []
        let prefix = root.standardizedFileURL.path + "/"
        for case let file as URL in walk where isTemporary(file.lastPathComponent) {
            let values = try? file.resourceValues(forKeys: [.contentModificationDateKey, .isRegularFileKey])
            guard values?.isRegularFile == true, file.lastPathComponent != AssemblyLock.fileName,
                  isAbandoned(file.lastPathComponent, modified: values?.contentModificationDate) else { continue }
            if (try? FileManager.default.removeItem(at: file)) != nil {
                removed.append(String(file.standardizedFileURL.path.dropFirst(prefix.count)))
            }
        }
        return removed
    }
}
