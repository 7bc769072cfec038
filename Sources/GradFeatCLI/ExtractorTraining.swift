import ArgumentParser
import Foundation
import GradFeat
import Layers

/// What `gradfeat train` and `gradfeat finetune` share: the data, network, optimiser and run options, and the run
/// itself — activation caches, the comparison with checkpoints and resume, and the run folder's artefacts
/// (`config.json`, `results.md`, `metrics.csv`, `accuracy.svg`). The two commands differ only in the extractors.
struct ExtractorTraining: ParsableArguments {
    @OptionGroup var data: DataOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var training: TrainingOptions

    @Option(help: "Layers to linearize (and fine-tune), comma-separated (default: the model's).")
    var linearize: String?

    @Option(help: "The first θ2 layer; the cache holds its input (default: the first linearized layer).")
    var split: String?

    @Option(help: "Checkpoint of a trained activation model whose head is ω̄ (when 'activation' is not trained here); fine-tuning starts its head from it.")
    var omega: String?

    @Option(help: "Write a checkpoint every this many iterations (0: at the end only).")
    var checkpointEvery = 0

    @Flag(help: "Continue from the checkpoints in the output folder.")
    var resume = false

    @Flag(help: "Do not standardise the features before the heads.")
    var noStandardize = false

    @Option(help: "Folder for caches, checkpoints and results (default: runs/<command>).")
    var output: String?

    @Flag(help: "Print no progress.")
    var quiet = false

    /// Trains `extractors` in order and writes the run folder (`output`, else `defaultOutput`).
    func run(extractors names: [String], defaultOutput: String) throws {
        let directory = URL(fileURLWithPath: output ?? defaultOutput)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let run = RunDirectory(directory)
        var configuration = try training.configuration(defaultIterations: 5_000)
        configuration.checkpointEvery = checkpointEvery
        if configuration.evaluateEvery == 0 { configuration.evaluateEvery = max(1, configuration.iterations / 10) }
        for name in names { _ = try ExtractorRegistry.shared.entry(name) }
        let layout = try run.layout(
            model: network.model, record: nil, split: split,
            linearize: linearize.map(commaSeparatedNames),
            parametrization: try training.resolvedParametrization(), standardize: !noStandardize)

        let probe = try ModelZoo.make(network.model, classes: 2, seed: training.seed)
        let loaded = try loadData(data, scaling: probe.inputScaling, seed: training.seed, padTo: probe.inputShape[1])
        let base = try network.network(
            classes: loaded.train.classCount, channels: loaded.train.imageShape[0], size: loaded.train.imageShape[1],
            seed: training.seed)
        guard base.layerNames.contains(layout.split) else {
            throw GradFeatError.unknownLayer(layout.split, model: network.model, known: base.layerNames)
        }
        let (train, test) = try cachedActivations(in: run, base: base, split: layout.split, loaded: loaded, quiet: quiet)

        var comparison = Comparison(
            network: base, split: layout.split, linearize: layout.linearize, extractors: names,
            configurations: ["activation": configuration], parametrization: layout.parametrization, quiet: quiet)
        comparison.standardizeFeatures = layout.standardize
        comparison.checkpointDirectory = directory
        comparison.resume = resume
        let omegaBar = try omega.map { path in
            try RunDirectory.omegaBar(
                fromActivationCheckpoint: URL(fileURLWithPath: path),
                network: layout.standardize ? try base.standardizingFeatures(using: train, splitAt: layout.split) : base,
                layout: layout)
        }
        let rows = try comparison.run(train: train, test: test, loss: loss(for: train.targets), omegaBar: omegaBar)
        let record = RunRecord(
            command: CommandLine.arguments.joined(separator: " "), model: network.model,
            weights: network.weights.map(RunRecord.absolutePath), keepInitial: network.keepInitial,
            inputShape: loaded.train.imageShape.dimensions, dataset: data.dataset, data: loaded.description,
            dataDirectory: data.dataDir.map(RunRecord.absolutePath), imageSize: data.imageSize,
            trainSize: data.trainSize, testSize: data.testSize, split: layout.split, linearize: layout.linearize,
            parametrization: layout.parametrization.rawValue, standardize: layout.standardize,
            omega: omega.map(RunRecord.absolutePath), seed: training.seed, training: configuration, extractors: names)
        try finish(
            rows: rows, title: "GradFeat on \(data.dataset): \(network.model)",
            notes: [loaded.description, "weights: \(network.weights ?? "random initialisation")",
                    "θ1 = layers before \(layout.split), θ2 = \(layout.linearize.joined(separator: ", "))",
                    "\(configuration.iterations) iterations, \(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), seed \(training.seed)"],
            record: record, directory: directory)
    }
}
