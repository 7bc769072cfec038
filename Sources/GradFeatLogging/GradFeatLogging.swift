// How GradFeat's log records (swift-log) are shown. The libraries only log; an executable picks this rendering.
import Logging

/// Installs GradFeat's log handler for the process. The `gradfeat` tool and the Examples call
/// ``bootstrap(_:)``; an executable of your own may call it too, or bootstrap any other swift-log handler:
///
/// ```swift
/// import GradFeatLogging
///
/// GradFeatLogging.bootstrap()            // text; `LogOutput.standardError.format = .json` switches later
/// ```
public enum GradFeatLogging {
    /// Routes every `Logger` of the process to ``LogOutput/standardError``. swift-log allows one bootstrap per
    /// process; later calls only set the format.
    public static func bootstrap(_ format: LogFormat = .text) {
        LogOutput.standardError.format = format
        _ = installed
    }

    private static let installed: Void = LoggingSystem.bootstrap { label in
        GradFeatLogHandler(label: label, output: .standardError)
    }
}
