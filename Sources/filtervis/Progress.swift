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

/// The whole run's progress across units: units done, preference images per second (of filter units' time) and
/// photos per second (of patch units' time), and the ETA of
/// the rest of this invocation's units, from their relative work (`WorkModel`) and the time the finished ones took.
final class RunProgress {
    private let work: [String: Double]
    private let total: Int
    private var remainingWork: Double
    private var doneWork = 0.0
    private var done = 0, skipped = 0, filters = 0, photos = 0
    private var computeSeconds = 0.0, filterSeconds = 0.0, photoSeconds = 0.0
    private let start = Date()

    /// `units`: this invocation's units with their relative work.
    init(units: [(id: String, work: Double)]) {
        work = Dictionary(units.map { ($0.id, $0.work) }, uniquingKeysWith: { a, _ in a })
        total = units.count
        remainingWork = units.reduce(0) { $0 + $1.work }
    }

    func skip(_ id: String) {
        skipped += 1
        remainingWork -= work[id] ?? 0
    }

    /// Records a finished unit and returns the progress line.
    func finish(_ id: String, seconds: Double, filters: Int, photos: Int) -> String {
        done += 1
        let w = work[id] ?? 0
        remainingWork -= w
        doneWork += w
        computeSeconds += seconds
        self.filters += filters
        self.photos += photos
        if filters > 0 { filterSeconds += seconds } else if photos > 0 { photoSeconds += seconds }
        let elapsed = Date().timeIntervalSince(start)
        let eta = doneWork > 0 ? computeSeconds / doneWork * max(0, remainingWork) : 0
        var rates: [String] = []
        if self.filters > 0 { rates.append(String(format: "%.2f images/s", Double(self.filters) / max(filterSeconds, 1e-9))) }
        if self.photos > 0 { rates.append(String(format: "%.1f photos/s", Double(self.photos) / max(photoSeconds, 1e-9))) }
        return "run: \(done + skipped)/\(total) units done" + (skipped > 0 ? " (\(skipped) skipped)" : "")
            + (rates.isEmpty ? "" : " · " + rates.joined(separator: " · "))
            + " · \(ProgressReporter.clock(elapsed)) elapsed · ETA \(ProgressReporter.clock(eta))"
    }
}
