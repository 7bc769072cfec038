import Foundation
import GradFeat
import GradFeatLogging
import Logging
import Testing

/// The library's records (swift-log) and their three renderings: plain lines, a terminal bar, JSON objects.
@Suite struct LoggingTests {
    /// What an output wrote, piece by piece.
    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var pieces: [String] = []
        func append(_ text: String) { lock.withLock { pieces.append(text) } }
        var text: String { lock.withLock { pieces.joined() } }
        var lines: [String] { text.split(separator: "\n").map(String.init) }
    }

    static func output(_ format: LogFormat, terminal: Bool = false) -> (LogOutput, Logger, Captured) {
        let captured = Captured()
        let output = LogOutput(terminal: terminal) { captured.append($0) }
        output.format = format
        let logger = Logger(label: "gradfeat.test") { GradFeatLogHandler(label: $0, output: output) }
        return (output, logger, captured)
    }

    @Test func plainLinesAreTheMilestonesOfProgressAndEveryMessage() {
        let (_, logger, captured) = Self.output(.text)
        let progress = ProgressReporter("train probe", total: 100, logger: logger)
        for done in 1...100 { progress.update(done, values: [("loss", 1 / Double(done))]) }
        progress.log("probe iteration 100: done")
        let lines = captured.lines
        // Tenths 0 (first update), 1…9 and the end: 11 lines, whatever the timing; then the message.
        #expect(lines.count == 12)
        #expect(lines[0].hasPrefix("train probe 1/100 ") && lines[0].hasSuffix("loss 1"))
        #expect(lines[10].hasPrefix("train probe 100/100 ") && lines[10].contains("loss 0.01"))
        #expect(lines[11] == "probe iteration 100: done")
        #expect(!captured.text.contains("\u{1B}"), "no terminal escapes in a log")
    }

    @Test func jsonRecordsCarryTheValuesAsNumbers() throws {
        let (_, logger, captured) = Self.output(.json)
        let progress = ProgressReporter("train probe", total: 10, unit: "it", logger: logger)
        progress.update(10, values: [("loss", 0.25)], itemsPerUnit: 64, itemName: "img")
        progress.log("evaluated", event: .evaluation, values: [("step", 10), ("test_accuracy", 0.5), ("nan", .nan)])
        let records = try captured.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.count == 2)
        let update = records[0], evaluation = records[1]
        #expect(update["event"] as? String == "progress" && update["task"] as? String == "train probe")
        #expect(update["done"] as? Double == 10 && update["total"] as? Double == 10)
        #expect(update["loss"] as? Double == 0.25)
        #expect((update["img_per_s"] as? Double).map { $0 > 0 } == true)
        #expect(update["level"] as? String == "info" && update["logger"] as? String == "gradfeat.test")
        #expect((update["time"] as? String)?.hasSuffix("Z") == true)
        #expect(evaluation["event"] as? String == "evaluation")
        #expect(evaluation["step"] as? Double == 10 && evaluation["test_accuracy"] as? Double == 0.5)
        #expect(evaluation["nan"] is NSNull, "a non-finite value is null, not invalid JSON")
    }

    @Test func aTerminalRedrawsOneBarAndClearsItForAMessage() {
        let (_, logger, captured) = Self.output(.text, terminal: true)
        let progress = ProgressReporter("cache", total: 4, unit: "img", logger: logger)
        progress.update(1)
        progress.log("a note")
        progress.update(4)
        let text = captured.text
        // The bar is redrawn in place (carriage return, erase line), never ends a line until the work is done, and
        // a message first erases it.
        #expect(text.hasPrefix("\r\u{1B}[2K██████"))
        #expect(text.contains("cache 1/4 ") && !text.contains("cache 1/4 \n"))
        #expect(text.contains("\r\u{1B}[2Ka note\n"))
        #expect(text.hasSuffix("\n") && text.contains("████████████████████████ cache 4/4"))
    }

    @Test func liveUpdatesReachOnlyATerminalAndLevelsFilterMessages() {
        let (output, logger, captured) = Self.output(.text)
        logger.trace("live", metadata: RunEvent.progress.metadata([("done", 1), ("total", 2)]))
        logger.debug("detail")
        logger.warning("disk nearly full")
        output.level = .error
        logger.warning("dropped")
        logger.error("failed")
        #expect(captured.lines == ["warning: disk nearly full", "error: failed"])
    }

    @Test func aResumedRunCountsFromItsStartAndEndsAtItsTotal() throws {
        let (_, logger, captured) = Self.output(.json)
        let progress = ProgressReporter("train resumed", total: 100, start: 60, logger: logger)
        for done in 61...100 { progress.update(done) }
        let lastLine = try #require(captured.lines.last)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lastLine.utf8)) as? [String: Any])
        #expect(last["done"] as? Double == 100 && last["total"] as? Double == 100 && last["eta_s"] as? Double == 0)
        // Tenths 6 (the first update), 7, 8, 9 and the end.
        #expect(captured.lines.count == 5)
    }

    @Test func metadataCannotReplaceARecordsOwnFields() throws {
        let (_, logger, captured) = Self.output(.json)
        logger.info(
            "the message",
            metadata: RunEvent.evaluation.metadata(
                [("step", 3)], strings: ["message": "forged", "level": "error", "event": "progress"]))
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(captured.text.utf8)) as? [String: Any])
        #expect(record["message"] as? String == "the message" && record["level"] as? String == "info")
        #expect(record["event"] as? String == "evaluation" && record["step"] as? Double == 3)
    }

    @Test func quietReportsNothing() {
        let (_, logger, captured) = Self.output(.json)
        let progress = ProgressReporter("quiet", total: 2, quiet: true, logger: logger)
        progress.update(2)
        progress.log("hidden")
        #expect(captured.text.isEmpty)
    }
}
