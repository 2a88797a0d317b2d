import Foundation
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Names of in-progress outputs beside their target: `.NAME.tmp-PID-RANDOM` (a file or folder being written) and
/// `.NAME.old-PID-RANDOM` (an earlier output moved aside while its replacement is renamed in). The process id says
/// whether the writer still runs, so a later run can remove what a killed one left behind.
public enum TemporaryName {
    public enum Kind: String, Sendable { case file = "tmp", previous = "old" }

    public static func make(for name: String, kind: Kind) -> String {
        ".\(name).\(kind.rawValue)-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    /// The writer's process id if `entry` is such a name for `name` of `kind`, else nil.
    public static func writer(of entry: String, for name: String, kind: Kind) -> pid_t? {
        let prefix = ".\(name).\(kind.rawValue)-"
        guard entry.hasPrefix(prefix) else { return nil }
        let parts = entry.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, UInt64(parts[1], radix: 16) != nil else { return nil }
        return pid
    }

    /// Whether `entry` is any such name (for any target, either kind).
    public static func isTemporary(_ entry: String) -> Bool {
        guard entry.hasPrefix("."), let dash = entry.lastIndex(of: "-") else { return false }
        let head = entry[..<dash]
        guard UInt64(entry[entry.index(after: dash)...], radix: 16) != nil, let pidDash = head.lastIndex(of: "-"),
              pid_t(head[head.index(after: pidDash)...]) != nil else { return false }
        return head[..<pidDash].hasSuffix(".\(Kind.file.rawValue)") || head[..<pidDash].hasSuffix(".\(Kind.previous.rawValue)")
    }

    /// Whether process `pid` has ended (this process counts as running).
    public static func hasEnded(_ pid: pid_t) -> Bool {
        pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Entries of `folder` named for `name` of `kind` whose writer has ended, oldest first.
    public static func stale(in folder: URL, for name: String, kind: Kind) -> [URL] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let urls = entries.filter { entry in writer(of: entry, for: name, kind: kind).map(hasEnded) ?? false }
            .map { folder.appendingPathComponent($0) }
        func modified(_ url: URL) -> Date {
            ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date) ?? .distantPast
        }
        return urls.sorted { modified($0) < modified($1) }
    }

    /// Removes the temporaries that killed writers left beside `target` (files or whole folders).
    public static func removeStale(besides target: URL) {
        for url in stale(in: target.deletingLastPathComponent(), for: target.lastPathComponent, kind: .file) {
            try? FileManager.default.removeItem(at: url)
        }
    }
}
