import Foundation

/// How much memory one command may plan to use: 75% of the machine's (or the control group's) memory, or
/// FILTERVIS_MEMORY_LIMIT when set lower. Sizes whose estimate exceeds it are refused before any work, so a huge
/// --size is an error message, not an abort on a failed allocation.
public enum MemoryBudget {
    /// Why a FILTERVIS_MEMORY_LIMIT value cannot be used.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notASize(String)
        public var description: String {
            switch self {
            case let .notASize(text):
                return "FILTERVIS_MEMORY_LIMIT=\(text) is not a size; give bytes or a number with K, M, G or T (e.g. 8G)"
            }
        }
    }

    /// The budget in bytes (the environment is read once).
    public static let bytes: Double = {
        let machine = 0.75 * Double(physicalBytes)
        guard let text = ProcessInfo.processInfo.environment["FILTERVIS_MEMORY_LIMIT"], !text.isEmpty,
              let limit = try? parse(text) else { return machine }
        return min(machine, limit)
    }()

    /// The machine's memory, or the cgroup v2 limit when that is smaller.
    static var physicalBytes: Int {
        var total = Int(ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
            total = min(total, limit)
        }
        return total
    }

    /// "8G", "512M", "1.5G", "1000000" -> bytes (binary units).
    public static func parse(_ text: String) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var number = trimmed
        var scale = 1.0
        if trimmed.hasSuffix("B") { number.removeLast() }
        if let last = number.last, let unit = units[last] { scale = unit; number.removeLast() }
        guard let value = Double(number), value.isFinite, value > 0 else { throw ParseError.notASize(text) }
        return value * scale
    }

    /// "1.5 GiB", "300 MiB": bytes for messages.
    public static func describe(_ bytes: Double) -> String {
        if bytes >= Double(1 << 30) { return String(format: "%.1f GiB", bytes / Double(1 << 30)) }
        return String(format: "%.0f MiB", max(1, bytes / Double(1 << 20)))
    }
}
