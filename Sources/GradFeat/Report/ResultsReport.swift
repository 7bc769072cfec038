import Foundation
import HDF5

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a comparison's results: `results.md` (the paper-style table), `metrics.csv` (one line per evaluation)
/// and `accuracy.svg` (test metric against iterations, one line per model). The run's configuration is the run
/// folder's `config.json` (`RunRecord`), which `Experiment` writes beside them.
public struct ResultsReport: Sendable {
    public var title: String
    public var rows: [Comparison.Row]
    /// Lines describing the run (data, model, seeds), printed above the table.
    public var notes: [String]

    public init(title: String, rows: [Comparison.Row], notes: [String] = []) {
        self.title = title
        self.rows = rows
        self.notes = notes
    }

    private var metricName: String { rows.first?.metrics.headlineName ?? "accuracy" }

    /// The paper-style Markdown table.
    public var markdown: String {
        var lines = ["# \(title)", ""] + notes.map { "- \($0)" } + (notes.isEmpty ? [] : [""])
        lines.append("| model | test \(metricName) (%) | test loss | trainable parameters | training time (s) |")
        lines.append("|---|---|---|---|---|")
        for row in rows {
            lines.append(
                String(
                    format: "| %@ | %.2f | %.4f | %d | %.1f |", row.extractor, 100 * row.metrics.headline,
                    row.metrics.loss ?? .nan, row.parameterCount, row.seconds))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var csv: String {
        var lines = ["model,iteration,train_loss,test_loss,test_\(metricName),learning_rate,seconds"]
        for row in rows {
            for record in row.history {
                lines.append(
                    [
                        row.extractor, String(record.iteration), String(record.trainLoss),
                        record.testLoss.map { String($0) } ?? "", record.testMetric.map { String($0) } ?? "",
                        String(record.learningRate), String(format: "%.3f", record.seconds),
                    ]
                    .joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Test metric against iterations as an SVG line plot.
    public var svg: String {
        let series = rows.map { row in
            (row.extractor, row.history.compactMap { r in r.testMetric.map { (Double(r.iteration), 100 * $0) } })
        }
        return SVGPlot(title: title, xLabel: "iteration", yLabel: "test \(metricName) (%)", series: series).render()
    }

    /// Writes the files into `directory` (created if needed), each atomically.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writeAtomically(markdown, to: directory.appendingPathComponent("results.md"))
        try writeAtomically(csv, to: directory.appendingPathComponent("metrics.csv"))
        try writeAtomically(svg, to: directory.appendingPathComponent("accuracy.svg"))
    }
}

/// Writes text under a temporary name and renames it, so a reader never sees half a file; on failure (a full disk)
/// the temporary file is removed and the error names the file.
public func writeAtomically(_ text: String, to url: URL) throws {
    TemporaryFile.removeStale(for: url)
    let temporary = TemporaryFile.url(for: url, hidden: true)
    func fail(_ reason: String) -> GradFeatError {
        try? FileManager.default.removeItem(at: temporary)
        return GradFeatError.invalidConfiguration(
            "\(url.path): cannot be written (\(reason)); check the folder's permissions and free space")
    }
    let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw fail(String(cString: strerror(errno))) }
    var failure: String?
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(descriptor, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                failure = String(cString: strerror(errno))
                return
            }
            done += n
        }
    }
    if failure == nil, fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
    if close(descriptor) != 0, failure == nil { failure = String(cString: strerror(errno)) }
    if let failure { throw fail(failure) }
    // rename(2) replaces the old file in one step: a reader sees the old text or the new, never neither.
    guard rename(temporary.path, url.path) == 0 else { throw fail(String(cString: strerror(errno))) }
}
