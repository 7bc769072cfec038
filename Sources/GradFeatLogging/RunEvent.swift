import Logging

/// What a GradFeat log record reports, in its metadata under ``RunEvent/key``: handlers draw progress records as a
/// bar, and tools reading `--log-format json` pick evaluations out by it.
public enum RunEvent: String, Sendable, CaseIterable {
    /// Long work advancing (`done` of `total`, `rate`, `eta_s`, and values such as `loss`). Records at `.trace`
    /// are live updates, a few a second, for a bar; records at `.info` are milestones (each tenth, and the end).
    case progress
    /// A model evaluated at a step (`step`, `train_loss`, `test_accuracy` or `test_mAP`, …).
    case evaluation
    /// A sentence for the person running the job.
    case message

    /// The metadata key naming the event.
    public static let key = "event"

    /// This event as metadata, with `values` as numbers (JSON numbers in `--log-format json`).
    public func metadata(_ values: [(name: String, value: Double)] = [], strings: [String: String] = [:])
        -> Logger.Metadata
    {
        var metadata: Logger.Metadata = [:]
        for (name, value) in values { metadata[name] = .stringConvertible(value) }
        for (name, value) in strings { metadata[name] = .string(value) }
        metadata[Self.key] = .string(rawValue) // a value named `event` cannot change what the record is
        return metadata
    }

    /// The event a record's metadata names (a record without one is a ``message``).
    public init(_ metadata: Logger.Metadata?) {
        guard case let .string(name)? = metadata?[Self.key], let event = RunEvent(rawValue: name) else {
            self = .message
            return
        }
        self = event
    }
}
