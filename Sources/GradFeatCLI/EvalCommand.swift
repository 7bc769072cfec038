import ArgumentParser
import Datasets
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor

/// Scores predictions against the labels of a data-set cache, or the trained extractors of a run folder.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract:
            "Score a run folder's trained extractors on its test set, or the logits of `gradfeat predict` against a data-set cache.",
        discussion: """
            Run folder:   gradfeat eval --run OUTPUT [--extractor NAME[,NAME…]]
              Rebuilds each extractor from OUTPUT (config.json, <name>.h5, activation.h5 for ω̄, \
            activations-train.h5 for the standardisation) and scores it on the run's test images \
            (activations-test.h5; when a cache is gone, it is computed again from the data set config.json names). \
            Prints top-1 accuracy (single-label) or mAP (multi-label) per extractor beside the last evaluation in \
            training, and writes OUTPUT/eval.md and OUTPUT/eval.json (the full metrics: confusion matrix or per-class AP).

            Predictions:  gradfeat eval --predictions Y.h5 --input D.h5 [--output M.json]
              Prints top-1 accuracy and the confusion matrix (single-label), or per-class AP and mAP with difficult \
            entries ignored (multi-label), and the loss; --output writes them as JSON. Typical use:
              gradfeat predict --model M --weights W.h5 --checkpoint run/gradfeat.h5 --input test.h5 --output y.h5
              gradfeat eval --predictions y.h5 --input test.h5
            """)

    @Option(
        name: .customLong("run"),
        help: "A run folder written by train, finetune or demo: score its trained extractors on its test set.")
    var runFolder: String?

    @Option(
        help: "With --run: the extractors to score, comma-separated (default: those the run trained).",
        completion: RegistryCompletion.extractors)
    var extractor: String?

    @Option(help: "HDF5 file with /logits float32 [N, c].")
    var predictions: String?

    @Option(help: "The data-set cache the predictions were made for (labels in /labels).")
    var input: String?

    @Option(help: "With --predictions: write the metrics as JSON here.")
    var output: String?

    @Flag(help: "Print no progress.")
    var quiet = false

    func validate() throws {
        if runFolder != nil {
            for (name, value) in [("--predictions", predictions), ("--input", input), ("--output", output)]
            where value != nil {
                throw ValidationError(
                    "\(name) does not apply with --run (which writes eval.md and eval.json into the run folder)")
            }
        } else {
            guard predictions != nil, input != nil else {
                throw ValidationError("pass --run OUTPUT (a run folder), or --predictions Y.h5 with --input D.h5")
            }
            if extractor != nil { throw ValidationError("--extractor applies only with --run") }
        }
    }

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        if let runFolder {
            try evaluate(run: RunDirectory(URL(fileURLWithPath: runFolder)))
        } else if let predictions, let input {
            try evaluate(predictions: predictions, input: input)
        }
    }

    // MARK: - Run folder

    func evaluate(run: RunDirectory) throws {
        let clock = Date()
        let record = try run.record()
        var names = extractor.map(commaSeparatedNames) ?? record.extractors
        if extractor == nil {
            // A plugin's extractor is scored by the executable that registers it (its package's `swift run NAME eval`).
            let unknown = names.filter { !GradFeatCLI.plugins.extractors.contains($0) }
            if !unknown.isEmpty {
                note(
                    "skipping \(unknown.joined(separator: ", ")): not registered in this executable; run the eval "
                        + "command of the package that registers \(unknown.count == 1 ? "it" : "them")")
                names.removeAll { unknown.contains($0) }
            }
        }
        for name in names where !FileManager.default.fileExists(atPath: run.checkpoint(name).path) {
            throw RunDirectory.Error.missingFile(
                path: run.checkpoint(name).path,
                fix:
                    "this run trained \(record.extractors.joined(separator: ", ")); pass one of them with --extractor, "
                    + "or train '\(name)' into \(run.url.path)")
        }
        let layout = try run.layout(model: record.model, record: record)
        let (base, _, test, views) = try runActivations(run: run, record: record, layout: layout, quiet: quiet)
        let features = try run.featureNetwork(base, layout: layout)
        let evaluator = Evaluator()
        var results: [(name: String, iteration: Int, metrics: Metrics, inTraining: Double?)] = []
        for name in names {
            let trained = try run.rebuild(
                checkpoint: run.checkpoint(name), network: features, layout: layout, record: record,
                fallbackOmegaBar: base.head)
            // The loss the model was trained with (its checkpoint's configuration), so the test loss matches training's.
            // A run that averaged its predictions over test-time crops is scored the same way.
            let metrics =
                views.isEmpty
                ? try evaluator.evaluate(
                    trained.extractor, on: test, loss: try trained.state.configuration.makeLoss(for: test))
                : try evaluator.evaluate(trained.extractor, views: views)
            results.append((name, trained.state.iteration, metrics, trained.state.history.last?.testMetric))
        }

        let metricName = results.first?.metrics.headlineName ?? "accuracy"
        var lines = [
            "# Evaluation of \(run.url.path)", "",
            "- \(record.data); test images: \(test.count) (\(run.activationCache("test").lastPathComponent))"
                + (views.isEmpty ? "" : ", predictions averaged over \(views.count) test-time crops"),
            "- \(record.model), θ1 = layers before \(layout.split), θ2 = \(layout.linearize.joined(separator: ", "))",
            "",
            "| model | iterations | test \(metricName) (%) | test loss | last evaluation in training (%) |",
            "|---|---|---|---|---|",
        ]
        for result in results {
            lines.append(
                String(
                    format: "| %@ | %d | %.2f | %.4f | %@ |", result.name, result.iteration,
                    100 * result.metrics.headline,
                    result.metrics.loss ?? .nan, result.inTraining.map { String(format: "%.2f", 100 * $0) } ?? "–"))
        }
        let markdown = lines.joined(separator: "\n") + "\n"
        try writeAtomically(markdown, to: run.file("eval.md"))
        try writeJSON(
            Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.metrics) }), to: run.file("eval.json"))
        print(markdown)
        print(String(format: "Eval: %@, eval.json (%.1f s)", run.file("eval.md").path, Date().timeIntervalSince(clock)))
    }

    // MARK: - Predictions

    func evaluate(predictions: String, input: String) throws {
        let set = try ExperimentData.readCache(input, option: "--input")
        guard FileManager.default.fileExists(atPath: predictions) else {
            throw ValidationError("--predictions \(predictions): no such file (write it with `gradfeat predict`)")
        }
        let file = try HDF5File(url: URL(fileURLWithPath: predictions), mode: .readOnly)
        let dataset = try file.dataset(named: "logits")
        guard dataset.shape.count == 2, dataset.shape[0] == set.count else {
            throw ValidationError(
                "\(predictions): /logits has shape \(dataset.shape), but \(input) holds \(set.count) images")
        }
        let logits = try Tensor(shape: Shape(dataset.shape), scalars: try dataset.read())
        let targets: Targets
        let loss: any Loss
        switch set.labels {
        case let .single(labels):
            targets = .classes(labels.map { Int($0) })
            loss = SoftmaxCrossEntropy()
        case let .multi(flags):
            targets = .multiLabel(flags: flags, classCount: set.classCount)
            loss = SigmoidBinaryCrossEntropy()
        }
        let metrics = Metrics(
            logits: logits, targets: targets, loss: try loss.evaluate(logits: logits, targets: targets).loss)
        print(
            String(
                format: "%d images: %@ %.2f%%, loss %.4f", metrics.count, metrics.headlineName,
                100 * metrics.headline, metrics.loss ?? .nan))
        if let aps = metrics.averagePrecision {
            for (name, ap) in zip(set.classNames, aps) { print(String(format: "  AP %-14@ %.2f%%", name, 100 * ap)) }
        }
        if let confusion = metrics.confusion, confusion.count <= 20 {
            print("confusion (rows: true class, columns: predicted):")
            for (name, row) in zip(set.classNames, confusion) {
                print(
                    "  " + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + row.map { String(format: "%6d", $0) }.joined())
            }
        }
        if let output { try writeJSON(metrics, to: URL(fileURLWithPath: output)) }
    }
}
