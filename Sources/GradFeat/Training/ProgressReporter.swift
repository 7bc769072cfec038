import Foundation
import GradFeatLogging
import Logging

/// Reports the progress of long work as log records (`RunEvent.progress`): live updates at `.trace` at most ten
/// times a second, and milestones at `.info` at each tenth of the way and at the end. How they look — a bar with
/// rate and ETA on a terminal, lines in a log, JSON objects — is the log handler's choice (`GradFeatLogging`).
public final class ProgressReporter: @unchecked Sendable {
    public let label: String
    public let total: Int
    public let unit: String
    /// The units done before this reporter started (a resumed run): `done` counts from 0, the rate from here.
    public let start: Int
    private let logger: Logger
    private let clock = Date()
    // The throttle's state, under `lock`: a plugin may report from several threads.
    private let lock = NSLock()
    private var lastUpdate = Date.distantPast
    private var lastTenth = -1
    private let quiet: Bool

    /// `label` names the work (`train gradfeat`), `total` counts its `unit`s, of which `start` were done before
    /// (a resumed run); `quiet` drops every record.
    public init(
        _ label: String, total: Int, start: Int = 0, unit: String = "it", quiet: Bool = false,
        logger: Logger = Log.logger
    ) {
        self.label = label
        self.total = max(total, 1)
        self.start = min(max(start, 0), self.total)
        self.unit = unit
        self.quiet = quiet
        self.logger = logger
    }

    /// Reports `done` units of `total`, counted from the beginning of the work (`start` included). `values` (such
    /// as `("loss", 0.512)`) go into the line and, as numbers, into the record;
    /// with `itemName`, the rate is also given in items (`img/s`), `itemsPerUnit` to a unit.
    public func update(
        _ done: Int, values: [(name: String, value: Double)] = [], itemsPerUnit: Double = 1, itemName: String = ""
    ) {
        guard !quiet else { return }
        let tenth = done * 10 / total
        let now = Date()
        let milestone: Bool? = lock.withLock {
            let milestone = tenth > lastTenth || done >= total
            guard milestone || now.timeIntervalSince(lastUpdate) >= 0.1 else { return nil }
            lastUpdate = now
            if milestone { lastTenth = tenth }
            return milestone
        }
        guard let milestone else { return }

        let elapsed = now.timeIntervalSince(clock)
        let rate = Double(done - start) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - done) / rate : .infinity
        let throughput =
            itemName.isEmpty
            ? String(format: "%.1f %@/s", rate, unit) : String(format: "%.0f %@/s", rate * itemsPerUnit, itemName)
        let detail = values.map { String(format: " %@ %.4g", $0.name, $0.value) }.joined()
        var numbers: [(name: String, value: Double)] = [
            ("done", Double(done)), ("total", Double(total)), ("rate", rate), ("eta_s", remaining),
            ("elapsed_s", elapsed),
        ]
        if !itemName.isEmpty { numbers.append(("\(itemName)_per_s", rate * itemsPerUnit)) }
        logger.log(
            level: milestone ? .info : .trace,
            "\(label) \(done)/\(total) \(throughput) ETA \(Self.format(remaining))\(detail)",
            metadata: RunEvent.progress.metadata(numbers + values, strings: ["task": label, "unit": unit]))
    }

    /// Reports a sentence (`RunEvent.message`), or with `event: .evaluation` an evaluation whose `values` (step,
    /// losses, test metric) tools read from the record.
    public func log(_ message: String, event: RunEvent = .message, values: [(name: String, value: Double)] = []) {
        guard !quiet else { return }
        logger.info("\(message)", metadata: event.metadata(values, strings: ["task": label]))
    }

    static func format(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
