import ArgumentParser
import Foundation
import GradFeat

/// Training-step throughput (issue 6): a thin wrapper over `StepBenchmark`, which `Benchmarks/StepBench` runs too.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the bottom forward pass and the activation, gradient, full GradFeat and fine-tuning steps.",
        discussion: """
            Prints one machine-readable BENCH line per row (images/s, achieved GFLOP/s, peak memory) and the sgemm \
            rate measured in the same run. Each row runs in a child process so that its peak memory is its own. \
            See BENCHMARKS.md for the table and the PyTorch/JAX comparison.
            """)

    @Option(help: "Run only the rows whose id contains this text (e.g. 'conv5/full', 'resnet18').")
    var filter: String?

    @Option(help: "Minimum seconds of timed steps per row.")
    var seconds = 2.0

    @Option(help: "Run one row (by id) in this process.")
    var row: String?

    @Flag(help: "List the row ids.")
    var list = false

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        if list {
            for row in StepBenchmark.rows { print(row.id) }
        } else if let row {
            print(try StepBenchmark.measure(try StepBenchmark.row(row), minSeconds: seconds).line)
        } else {
            let rows = StepBenchmark.rows.filter { filter == nil || $0.id.contains(filter!) }
            let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
            try StepBenchmark.runAll(
                rows, executable: executable, arguments: ["bench", "--seconds", String(seconds), "--row"],
                emit: { print($0) })
        }
    }
}
