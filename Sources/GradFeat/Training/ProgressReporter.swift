import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reports progress of long work on standard error: a bar with rate and ETA redrawn in place on a terminal, plain
/// lines at every tenth of the way (and at the end) in logs.
public final class ProgressReporter: @unchecked Sendable {
    public let label: String
    public let total: Int
    public let unit: String
    private let start = Date()
    private let interactive: Bool
    private var lastDraw = Date.distantPast
    private var lastLoggedTenth = -1
    private let quiet: Bool

    public init(_ label: String, total: Int, unit: String = "it", quiet: Bool = false) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.quiet = quiet
        interactive = isatty(STDERR_FILENO) != 0
    }

    /// Updates the display after `done` units; `detail` is appended (e.g. "loss 0.512").
    public func update(_ done: Int, detail: String = "", itemsPerUnit: Double = 1, itemName: String = "") {
        guard !quiet else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - done) / rate : .infinity
        let throughput =
            itemName.isEmpty
            ? String(format: "%.1f %@/s", rate, unit)
            : String(format: "%.0f %@/s", rate * itemsPerUnit, itemName)
        let line =
            "\(label) \(done)/\(total) \(throughput) ETA \(Self.format(remaining))\(detail.isEmpty ? "" : " " + detail)"
        if interactive {
            guard Date().timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
            lastDraw = Date()
            let width = 24, filled = Int(Double(width) * Double(done) / Double(total))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(bar) \(line)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let tenth = done * 10 / total
            guard tenth > lastLoggedTenth else { return }
            lastLoggedTenth = tenth
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
    }

    /// Prints a line without breaking the bar.
    public func log(_ message: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[2K" : "") + message + "\n").utf8))
    }

    public var elapsedSeconds: Double { Date().timeIntervalSince(start) }

    static func format(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
