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
    /// Routes every `Logger` made from now on (GradFeat's `Log.logger` among them, when this comes before any
    /// GradFeat work) to ``LogOutput/standardError``. swift-log allows one bootstrap a process: later calls of this
    /// function only set the format, and a process that bootstrapped another handler must not call it.
    public static func bootstrap(_ format: LogFormat = .text) {
        LogOutput.standardError.format = format
        _ = installed
    }

    private static let installed: Void = LoggingSystem.bootstrap { label in
        GradFeatLogHandler(label: label, output: .standardError)
    }
}
