import ArgumentParser
import GradFeatLogging

/// How a command's progress and messages reach standard error (results and tables go to standard output).
struct LoggingOptions: ParsableArguments {
    @Option(
        help: """
            How progress and messages are written to standard error: text (a live bar with rate and ETA on a \
            terminal, plain lines in a pipe or a file) or json (one object a line: event, step, loss, test_accuracy, \
            rate, …).
            """)
    var logFormat: LogFormat = .text

    /// Makes this command's records take the chosen form.
    func apply() { LogOutput.standardError.format = logFormat }
}

extension LogFormat: ExpressibleByArgument {}
