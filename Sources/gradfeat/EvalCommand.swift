import ArgumentParser
import Datasets
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor

/// Scores predictions against the labels of a data-set cache.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score the logits of `gradfeat predict` (or any HDF5 with /logits [N, c]) against a data-set cache's labels.",
        discussion: """
            Prints top-1 accuracy and the confusion matrix (single-label), or per-class AP and mAP with difficult \
            entries ignored (multi-label), and the loss; --output writes them as JSON. Typical use:
              gradfeat predict --model M --weights W.h5 --checkpoint run/gradfeat.h5 --input test.h5 --output y.h5
              gradfeat eval --predictions y.h5 --input test.h5
            """)

    @Option(help: "HDF5 file with /logits float32 [N, c].")
    var predictions: String

    @Option(help: "The data-set cache the predictions were made for (labels in /labels).")
    var input: String

    @Option(help: "Write the metrics as JSON here.")
    var output: String?

    func run() throws {
        let set = try DatasetCache.read(URL(fileURLWithPath: input))
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
        let metrics = Metrics(logits: logits, targets: targets, loss: try loss.evaluate(logits: logits, targets: targets).loss)
        print(String(format: "%d images: %@ %.2f%%, loss %.4f", metrics.count, metrics.headlineName,
                     100 * metrics.headline, metrics.loss ?? .nan))
        if let aps = metrics.averagePrecision {
            for (name, ap) in zip(set.classNames, aps) { print(String(format: "  AP %-14@ %.2f%%", name, 100 * ap)) }
        }
        if let confusion = metrics.confusion, confusion.count <= 20 {
            print("confusion (rows: true class, columns: predicted):")
            for (name, row) in zip(set.classNames, confusion) {
                print("  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + row.map { String(format: "%6d", $0) }.joined())
            }
        }
        if let output { try writeJSON(metrics, to: URL(fileURLWithPath: output)) }
    }
}
