import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Where log records are written and how: the rendering of ``LogFormat``, shared by every logger of a process and
/// serialised by a lock, so a message printed while a bar is drawn clears the bar first.
///
/// - text on a terminal: progress records redraw one bar line (`███··· label 120/5000 3.1 it/s ETA 26:15 loss 0.51`);
///   other records print above it.
/// - text elsewhere: progress milestones (`.info`) as lines; live updates (`.trace`) are dropped.
/// - json: one object per record at ``level`` or above, progress milestones included.
public final class LogOutput: @unchecked Sendable {
    /// Standard error of the process, drawn as a terminal when it is one.
    public static let standardError = LogOutput(terminal: isatty(STDERR_FILENO) != 0) { text in
        FileHandle.standardError.write(Data(text.utf8))
    }

    private let lock = NSLock()
    private let sink: @Sendable (String) -> Void
    private let terminal: Bool
    /// The task whose bar is drawn and not yet ended by a newline.
    private var barTask: String?
    private var _format: LogFormat = .text
    private var _level: Logger.Level = .info

    /// An output calling `sink` with each rendered piece of text; `terminal` says whether it may redraw a line.
    public init(terminal: Bool, sink: @escaping @Sendable (String) -> Void) {
        self.terminal = terminal
        self.sink = sink
    }

    /// The rendering of the records.
    public var format: LogFormat {
        get { lock.withLock { _format } }
        set { lock.withLock { _format = newValue } }
    }

    /// Records below this level are dropped (progress bars on a terminal excepted); `.info` unless set.
    public var level: Logger.Level {
        get { lock.withLock { _level } }
        set { lock.withLock { _level = newValue } }
    }

    /// Renders one record.
    public func write(level recordLevel: Logger.Level, message: String, metadata: Logger.Metadata, logger: String) {
        let event = RunEvent(metadata)
        lock.withLock {
            switch _format {
            case .json:
                guard recordLevel >= _level else { return }
                sink(Self.json(level: recordLevel, message: message, metadata: metadata, logger: logger) + "\n")
            case .text where terminal && event == .progress:
                let task = metadata["task"]?.description ?? ""
                // Another task's bar keeps its last state on its own line (a solver that converged early).
                if let shown = barTask, shown != task { sink("\n") }
                let finished = Self.fraction(metadata).map { $0 >= 1 } ?? false
                sink("\r\u{1B}[2K\(Self.bar(metadata)) \(message)" + (finished ? "\n" : ""))
                barTask = finished ? nil : task
            case .text:
                guard recordLevel >= _level else { return }
                let prefix = recordLevel >= .warning ? "\(recordLevel >= .error ? "error" : "warning"): " : ""
                sink((barTask != nil ? "\r\u{1B}[2K" : "") + prefix + message + "\n")
                barTask = nil
            }
        }
    }

    /// Ends a bar left unfinished with a newline, so that what is written next (an error, a table on standard
    /// output) starts a line of its own.
    public func endLine() {
        lock.withLock {
            if barTask != nil { sink("\n") }
            barTask = nil
        }
    }

    /// `done / total` of a progress record.
    static func fraction(_ metadata: Logger.Metadata) -> Double? {
        guard let done = number(metadata["done"]), let total = number(metadata["total"]), total > 0 else { return nil }
        return done / total
    }

    static func bar(_ metadata: Logger.Metadata, width: Int = 24) -> String {
        let filled = Int(Double(width) * min(max(fraction(metadata) ?? 0, 0), 1))
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    static func number(_ value: Logger.MetadataValue?) -> Double? {
        switch value {
        case let .stringConvertible(number as Double): number
        case let .stringConvertible(number as Int): Double(number)
        case let .stringConvertible(number as Float): Double(number)
        case let .stringConvertible(number as Int64): Double(number)
        case let .stringConvertible(number as UInt64): Double(number)
        case let .stringConvertible(number as UInt): Double(number)
        case let .stringConvertible(number as Int32): Double(number)
        default: nil
        }
    }

    /// One JSON object: the metadata (numbers as JSON numbers, `null` when not finite), then time, level, logger
    /// and message, which metadata of those names cannot replace; keys sorted.
    static func json(level: Logger.Level, message: String, metadata: Logger.Metadata, logger: String) -> String {
        var object: [String: Any] = metadata.mapValues(jsonValue)
        object["time"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        object["level"] = level.rawValue
        object["logger"] = logger
        object["message"] = message
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
            let text = String(data: data, encoding: .utf8)
        else { return #"{"level":"error","message":"unencodable log record"}"# }
        return text
    }

    private static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case let .string(text): return text
        case let .stringConvertible(convertible):
            if let number = number(value) { return number.isFinite ? number : NSNull() }
            if let flag = convertible as? Bool { return flag }
            return convertible.description
        case let .dictionary(dictionary): return dictionary.mapValues(jsonValue)
        case let .array(array): return array.map(jsonValue)
        }
    }
}
