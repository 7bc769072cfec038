import Logging

/// A swift-log handler that hands each record to a ``LogOutput``, which renders it in the output's format.
public struct GradFeatLogHandler: LogHandler {
    public let label: String
    public let output: LogOutput
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    /// Every level reaches ``LogOutput``, which drops what its format does not show (live progress updates are
    /// `.trace` and only a terminal draws them).
    public var logLevel: Logger.Level = .trace

    public init(label: String, output: LogOutput) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        output.write(level: event.level, message: event.message.description, metadata: merged, logger: label)
    }
}
