import ArgumentParser
import Foundation
import GradFeat
import Layers

/// Where data comes from.
struct DataOptions: ParsableArguments {
    @Option(help: "Data set: \(DataCatalog.names.joined(separator: ", ")).")
    var dataset = "fashion-mnist"

    @Option(help: "Folder holding the data (default: $GRADFEAT_DATA_DIR, else ../shared/datasets when present).")
    var dataDir: String?

    @Option(help: "Side of the images for data sets of varied sizes (VOC2007, COCO): they are resized to it.")
    var imageSize = 64

    @Option(help: "Use only this many training images (a quick run); 0 means all.")
    var trainSize = 0

    @Option(help: "Use only this many test images; 0 means all.")
    var testSize = 0
}

/// How models are trained.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Optimiser preset: 'paper' (Adam β1 0.5, lr 1e-3, wd 1e-6, batch 64) or 'released' (SGD 0.9, lr 0.1, clip 10).")
    var preset = "paper"

    @Option(name: .customLong("niter"), help: "Training iterations per model.")
    var iterations: Int?

    @Option(name: .customLong("batchsize"), help: "Mini-batch size (overrides the preset).")
    var batchSize: Int?

    @Option(name: .customLong("lr"), help: "Learning rate (overrides the preset).")
    var learningRate: Float?

    @Option(name: .customLong("wd"), help: "Weight decay (overrides the preset).")
    var weightDecay: Float?

    @Option(name: .customLong("stepsize"), help: "Halve the learning rate every this many iterations.")
    var stepSize: Int?

    @Option(help: "Clip the gradient norm at this value.")
    var clip: Float?

    @Option(help: "Evaluate on the test set every this many iterations (0: at the end only).")
    var evalEvery: Int?

    @Option(help: "Parametrization of the trained layers: ntk (the authors') or standard.")
    var parametrization = Parametrization.default.rawValue

    @Option(help: "Random seed: every run is reproducible from it.")
    var seed: UInt64 = 0

    @Option(help: "A config file, JSON (.json) or YAML (.yaml, .yml), with the released code's keys (optim, lr, wd, batchsize, niter, stepsize, …) laid over --preset; command-line options override it.")
    var config: String?

    /// The preset, with the config file's keys over it, with the command-line options over both.
    /// `defaultBatchSize`, when given, replaces the preset's batch size before the file and options apply.
    func configuration(defaultIterations: Int, defaultBatchSize: Int? = nil) throws -> TrainingConfiguration {
        var c = try TrainingConfiguration.preset(preset, iterations: iterations ?? defaultIterations, seed: seed)
        if let defaultBatchSize { c.batchSize = defaultBatchSize }
        if let config { c = try TrainingConfiguration(contentsOf: URL(fileURLWithPath: config), over: c) }
        if let iterations { c.iterations = iterations }
        if let batchSize { c.batchSize = batchSize }
        if let learningRate { c.learningRate = learningRate }
        if let weightDecay { c.weightDecay = weightDecay }
        if let stepSize { c.stepSize = stepSize }
        if let clip { c.clipNorm = clip }
        if let evalEvery { c.evaluateEvery = evalEvery }
        if config == nil || seed != 0 { c.seed = seed }
        try c.validate()
        return c
    }

    func resolvedParametrization() throws -> Parametrization {
        guard let p = Parametrization(rawValue: parametrization) else {
            throw ValidationError("--parametrization must be 'ntk' or 'standard', not '\(parametrization)'")
        }
        return p
    }
}

/// Writes `value` as pretty JSON, atomically.
func writeJSON(_ value: some Encodable, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n", to: url)
}

/// Prints to standard error.
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// The names in a comma-separated option value (`--extractor activation, gradfeat`, `--linearize conv4,conv5`),
/// trimmed, empty entries dropped.
func commaSeparatedNames(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
