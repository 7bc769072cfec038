import ArgumentParser
import Foundation
import GradFeat
import Layers

/// Training extractors on cached activations of a base network, with checkpoints and resume.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train extractors (activation, gradient, gradfeat, finetune or a registered one) on a data set.",
        discussion: """
            The frozen bottom's activations are cached in OUTPUT/activations-{train,test}.h5 and reused while \
            their producer (weights, layer, images, scaling) is unchanged — also when `gradfeat cache \
            --activations` wrote them. Each extractor writes OUTPUT/<name>.h5 \
            checkpoints; --resume continues them exactly.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var training: TrainingOptions

    @Option(help: "Extractors to train in order, comma-separated; gradient models use ω̄ from the activation model.")
    var extractor = "activation,gradient,gradfeat,finetune"

    @Option(help: "Layers to linearize (and fine-tune), comma-separated (default: the model's).")
    var linearize: String?

    @Option(help: "The first θ2 layer; the cache holds its input (default: the first linearized layer).")
    var split: String?

    @Option(help: "Checkpoint of a trained activation model whose head is ω̄ (when 'activation' is not trained here).")
    var omega: String?

    @Option(help: "Write a checkpoint every this many iterations (0: at the end only).")
    var checkpointEvery = 0

    @Flag(help: "Continue from the checkpoints in the output folder.")
    var resume = false

    @Flag(help: "Do not standardise the features before the heads.")
    var noStandardize = false

    @Option(help: "Folder for caches, checkpoints and results.")
    var output = "runs/train"

    @Flag(help: "Print no progress.")
    var quiet = false

    func run() async throws {
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = try training.configuration(defaultIterations: 5_000)
        configuration.checkpointEvery = checkpointEvery
        if configuration.evaluateEvery == 0 { configuration.evaluateEvery = max(1, configuration.iterations / 10) }
        let names = extractor.split(separator: ",").map(String.init)
        for name in names { _ = try ExtractorRegistry.shared.entry(name) }
        let defaults = try ModelZoo.defaults(for: network.model)
        let layers = linearize.map { $0.split(separator: ",").map(String.init) } ?? defaults.linearize
        let splitLayer = split ?? layers.first!

        let probe = try ModelZoo.make(network.model, classes: 2, seed: training.seed)
        let loaded = try loadData(data, scaling: probe.inputScaling, seed: training.seed, padTo: probe.inputShape[1])
        let base = try network.network(
            classes: loaded.train.classCount, channels: loaded.train.imageShape[0], size: loaded.train.imageShape[1],
            seed: training.seed)
        guard base.layerNames.contains(splitLayer) else {
            throw GradFeatError.unknownLayer(splitLayer, model: network.model, known: base.layerNames)
        }

        let (train, test) = try cachedActivations(in: directory, base: base, split: splitLayer, loaded: loaded, quiet: quiet)

        var comparison = Comparison(
            network: base, split: splitLayer, linearize: layers, extractors: names,
            configurations: ["activation": configuration], parametrization: try training.resolvedParametrization(),
            quiet: quiet)
        comparison.standardizeFeatures = !noStandardize
        comparison.checkpointDirectory = directory
        comparison.resume = resume
        let omegaBar = try omega.map { try loadOmegaBar($0, base: base, split: splitLayer, train: train, comparison: comparison) }
        let rows = try comparison.run(train: train, test: test, loss: loss(for: train.targets), omegaBar: omegaBar)
        let record = RunRecord(
            command: CommandLine.arguments.joined(separator: " "), model: network.model, dataset: data.dataset,
            data: loaded.description, split: splitLayer, linearize: layers, parametrization: training.parametrization,
            seed: training.seed, pretraining: nil, training: configuration, extractors: names,
            date: ISO8601DateFormatter().string(from: Date()))
        try finish(
            rows: rows, title: "GradFeat on \(data.dataset): \(network.model)",
            notes: [loaded.description, "weights: \(network.weights ?? "random initialisation")",
                    "θ1 = layers before \(splitLayer), θ2 = \(layers.joined(separator: ", "))",
                    "\(configuration.iterations) iterations, \(configuration.optimizer.rawValue) lr \(configuration.learningRate), batch \(configuration.batchSize), seed \(training.seed)"],
            record: record, directory: directory)
    }

    /// ω̄ from an activation model's checkpoint.
    func loadOmegaBar(_ path: String, base: Network, split: String, train: InMemoryBatches, comparison: Comparison) throws -> Head {
        let (state, extractorName) = try CheckpointFile.load(URL(fileURLWithPath: path))
        guard extractorName == "activation" else {
            throw ValidationError("--omega \(path) is a checkpoint of '\(extractorName)', not of the activation model")
        }
        let network = comparison.standardizeFeatures ? try base.standardizingFeatures(using: train, splitAt: split) : base
        var activation = try ActivationFeatures(
            network: network, splitAt: split, classes: train.classCount, seed: 0, parametrization: comparison.parametrization)
        guard state.parameters.map(\.shape) == activation.parameters.map(\.shape) else {
            throw ValidationError("--omega \(path) holds a head of another shape than this task's")
        }
        activation.parameters = state.parameters
        return activation.head
    }
}
