import GradFeatLogging
import Logging

/// GradFeat's logger (swift-log, label `gradfeat`). The library never prints: what people read goes through it,
/// and the executable's log handler decides how it looks (`GradFeatLogging.bootstrap`, `--log-format`).
public enum Log {
    /// The logger of every GradFeat library. It takes the handler installed when it is first used, so an
    /// executable bootstraps swift-log (`GradFeatLogging.bootstrap`) before it runs any GradFeat work.
    public static let logger = Logger(label: "gradfeat")

    /// A sentence for the person running the job (level `.info`, `RunEvent.message`).
    public static func note(_ message: String) {
        logger.info("\(message)", metadata: RunEvent.message.metadata())
    }

    /// Something the job went past but the person should know of (level `.warning`).
    public static func warning(_ message: String) {
        logger.warning("\(message)", metadata: RunEvent.message.metadata())
    }
}
