import Foundation

/// Progress on long work: a redrawn bar with ETA on a terminal, plain log lines (every 10%) otherwise.
final class ProgressReporter {
    private let label: String
    private let interactive: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastLoggedTenth = -1

    init(label: String) {
        self.label = label
        self.interactive = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["CI"] == nil
    }

    /// Reports `done` of `total` units; `detail` is shown after the bar.
    func update(_ done: Int, of total: Int, detail: String = "") {
        guard total > 0 else { return }
        let fraction = min(1, Double(done) / Double(total))
        let elapsed = Date().timeIntervalSince(start)
        let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
        if interactive {
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "\r%@ %@ %3.0f%% %d/%d  %@ elapsed, ETA %@  %@", label, bar, fraction * 100, done, total,
                              Self.clock(elapsed), Self.clock(eta), detail)
            FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let tenth = Int(fraction * 10)
            guard tenth > lastLoggedTenth else { return }
            lastLoggedTenth = tenth
            let line = String(format: "%@: %3.0f%% (%d/%d), %@ elapsed, ETA %@ %@\n", label, fraction * 100, done, total,
                              Self.clock(elapsed), Self.clock(eta), detail)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
