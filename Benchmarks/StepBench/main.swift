// Training-step benchmark of the GradFeat models (issue 6): images/s, achieved GFLOP/s and peak memory of the bottom
// forward pass and of the activation, gradient, full GradFeat and fine-tuning steps, from cached activations and
// from images, beside the sgemm rate of the same run. The logic lives in GradFeat's `StepBenchmark`, which
// `gradfeat bench` runs too; see BENCHMARKS.md.
//
//     swift run -c release StepBench [--filter TEXT] [--seconds S]   every row, one child process per row
//     swift run -c release StepBench --row ID [--seconds S]          one row in this process
//     swift run -c release StepBench --list                          the row ids
//     swift run -c release StepBench --sgemm                         the sgemm rate and the machine
import Foundation
import GradFeat
import Tensor

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, in arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
let seconds = option("--seconds").flatMap(Double.init) ?? 2

do {
    if arguments.contains("--sgemm") {
        print(StepBenchmark.machineLine(sgemm: StepBenchmark.sgemmGFLOPs()))
    } else if arguments.contains("--list") {
        for row in StepBenchmark.rows { print(row.id) }
    } else if let id = option("--row") {
        print(try StepBenchmark.measure(try StepBenchmark.row(id), minSeconds: seconds).line)
    } else {
        let filter = option("--filter")
        let rows = StepBenchmark.rows.filter { filter == nil || $0.id.contains(filter!) }
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        try StepBenchmark.runAll(
            rows, executable: executable, arguments: ["--seconds", String(seconds), "--row"], emit: { print($0) })
    }
} catch {
    FileHandle.standardError.write(Data("StepBench: \(error)\n".utf8))
    exit(1)
}
