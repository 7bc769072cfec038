import ArgumentParser
import GradFeatLogging
import Tensor

/// How this process runs, for every command: how its progress and messages reach standard error (results and
/// tables go to standard output) and how many workers share its cores.
struct ProcessOptions: ParsableArguments {
    @Option(
        help: """
            How progress and messages are written to standard error: text (a live bar with rate and ETA on a \
            terminal, plain lines in a pipe or a file) or json (one object a line: event, step, loss, test_accuracy, \
            rate, …).
            """)
    var logFormat: LogFormat = .text

    @Option(
        help: """
            Worker threads of this process (1…\(Parallel.maximumWorkers)); wins over GRADFEAT_WORKERS, which wins \
            over the default: the cores this process may run on (under mpirun, the cores bound to its rank).
            """)
    var workers: Int?

    /// Makes this command's records take the chosen form and its workers the chosen number.
    func apply() throws {
        LogOutput.standardError.format = logFormat
        do {
            if let workers { try Parallel.requestWorkers(workers, from: "--workers") }
            try Parallel.validateEnvironment()
        } catch let error as ParallelError {
            throw ValidationError(error.description)
        }
    }
}

extension LogFormat: ExpressibleByArgument {}
