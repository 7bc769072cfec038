import ArgumentParser
import Foundation
import GradFeat

/// Several runs side by side, from their `metrics.csv`.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Combine runs (folders written by demo or train) into one table and one plot.")

    @Argument(help: "Run folders, each holding a metrics.csv.")
    var runs: [String]

    @Option(help: "Folder for report.md, report.csv and report.svg (default: print the table only).")
    var output: String?

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        var rows: [(run: String, model: String, iteration: Int, metric: Double, loss: Double)] = []
        var curves: [(String, [(Double, Double)])] = []
        var metricName = "metric"
        for run in runs {
            let path = run + "/metrics.csv"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError(
                    "\(path) cannot be read: pass folders written by `gradfeat demo` or `gradfeat train`")
            }
            let lines = text.split(separator: "\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
            guard let header = lines.first, header.count >= 5, header[0] == "model" else {
                throw ValidationError("\(path) is not a GradFeat metrics.csv (its header is \(lines.first ?? []))")
            }
            metricName = String(header[4].dropFirst("test_".count))
            var byModel: [String: [(Double, Double, Double)]] = [:]
            var order: [String] = []
            for fields in lines.dropFirst() where fields.count >= 5 {
                guard let iteration = Double(fields[1]), let metric = Double(fields[4]) else { continue }
                if byModel[fields[0]] == nil { order.append(fields[0]) }
                byModel[fields[0], default: []].append((iteration, metric, Double(fields[3]) ?? .nan))
            }
            let name = URL(fileURLWithPath: run).lastPathComponent
            for model in order {
                let points = byModel[model]!
                curves.append(("\(name)/\(model)", points.map { ($0.0, 100 * $0.1) }))
                let last = points.last!
                rows.append((name, model, Int(last.0), last.1, last.2))
            }
        }
        var table = ["| run | model | iterations | test \(metricName) (%) | test loss |", "|---|---|---|---|---|"]
        table += rows.map {
            String(format: "| %@ | %@ | %d | %.2f | %.4f |", $0.run, $0.model, $0.iteration, 100 * $0.metric, $0.loss)
        }
        let markdown = table.joined(separator: "\n") + "\n"
        print(markdown)
        if let output {
            let directory = URL(fileURLWithPath: output)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try writeAtomically(markdown, to: directory.appendingPathComponent("report.md"))
            let csv =
                ["run,model,iterations,test_\(metricName),test_loss"]
                + rows.map { "\($0.run),\($0.model),\($0.iteration),\($0.metric),\($0.loss)" }
            try writeAtomically(csv.joined(separator: "\n") + "\n", to: directory.appendingPathComponent("report.csv"))
            let plot = SVGPlot(
                title: "test \(metricName) against iterations", xLabel: "iteration",
                yLabel: "test \(metricName) (%)", series: curves)
            try writeAtomically(plot.render(), to: directory.appendingPathComponent("report.svg"))
            print("Report: \(directory.path)/report.md, report.csv, report.svg")
        }
    }
}
