/// How log records reach the person or the tool reading standard error.
public enum LogFormat: String, Sendable, CaseIterable {
    /// Text for people: a progress bar redrawn in place (rate, ETA) on a terminal, plain lines in a pipe or a file.
    case text
    /// One JSON object per record and line: `time`, `level`, `logger`, `message`, `event` and the record's values
    /// as numbers (`step`, `loss`, `test_accuracy`, `rate`, …).
    case json
}
