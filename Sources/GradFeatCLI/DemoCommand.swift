import ArgumentParser
import Foundation
import GradFeat
import Layers
import Tensor

/// The main job: the paper's comparison end to end on real data, in a few minutes.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Pre-train a base network by rotation prediction, cache its activations, and compare the "
            + "activation, gradient, full GradFeat and fine-tuning models.")

    @OptionGroup var data: DataOptions

    @Option(help: "Base network: \(ModelZoo.names.joined(separator: ", ")).")
    var model = BiganCIFAR.smallName

    @Option(help: "Rotation-prediction pre-training iterations (batch 128).")
    var pretrainIterations = 400

    @Option(help: "Training iterations of each compared model.")
    var niter = 1500

    @Option(help: "Layers to linearize (and to fine-tune), comma-separated.")
    var linearize = "conv5"

    @Option(help: "Random seed of the whole run.")
    var seed: UInt64 = 0

    @Option(help: "Folder for the results, weights and caches.")
    var output = "runs/demo"

    @Flag(help: "Print no progress.")
    var quiet = false

    func run() async throws {
        let clock = Date()
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let layers = commaSeparatedNames(linearize)
        let split = layers.first!

        // 1. Data.
        let probe = try ModelZoo.make(model, classes: 2, seed: seed)
        let loaded = try loadData(data, scaling: probe.inputScaling, seed: seed, padTo: probe.inputShape[1])
        let channels = loaded.train.imageShape[0]
        var network = try ModelZoo.make(
            model, classes: loaded.train.classCount, inputChannels: channels, inputSize: loaded.train.imageShape[1],
            seed: seed)
        guard network.layerNames.contains(split) else {
            throw GradFeatError.unknownLayer(split, model: model, known: network.layerNames)
        }

        // 2. Self-supervised pre-training: rotation prediction, no labels.
        var pretraining = TrainingConfiguration.paper(iterations: pretrainIterations, seed: seed)
        pretraining.batchSize = 128
        note("pre-training \(model) by rotation prediction on \(loaded.train.count) unlabelled images")
        let pretrained = try Pretraining.rotation(network, images: loaded.train, configuration: pretraining, quiet: quiet)
        network.backbone = pretrained.network.backbone
        try WeightsFile.save(network, to: directory.appendingPathComponent("weights.h5"))

        // 3. Cache the frozen bottom's activations (θ1 = the layers before `split`).
        let (train, test) = try cachedActivations(
            in: RunDirectory(directory), base: network, split: split, loaded: loaded, quiet: quiet)

        // 4. The four models.
        var training = TrainingConfiguration.paper(iterations: niter, seed: seed)
        training.evaluateEvery = max(1, niter / 10)
        var comparison = Comparison(
            network: network, split: split, linearize: layers, configurations: ["activation": training], quiet: quiet)
        comparison.checkpointDirectory = directory  // so that `gradfeat eval --run` and `predict` find the models
        let rows = try comparison.run(train: train, test: test, loss: loss(for: train.targets))

        let record = RunRecord(
            command: CommandLine.arguments.joined(separator: " "), model: model,
            weights: RunRecord.absolutePath(directory.appendingPathComponent("weights.h5").path),
            inputShape: loaded.train.imageShape.dimensions, dataset: data.dataset, data: loaded.description,
            dataDirectory: data.dataDir.map(RunRecord.absolutePath), imageSize: data.imageSize,
            trainSize: data.trainSize, testSize: data.testSize, split: split, linearize: layers,
            parametrization: comparison.parametrization.rawValue, standardize: comparison.standardizeFeatures,
            seed: seed, pretraining: pretraining, training: training, extractors: comparison.extractors)
        try finish(
            rows: rows, title: "GradFeat on \(data.dataset): \(model) pre-trained by rotation prediction",
            notes: [loaded.description, "θ1 = layers before \(split) (cached), θ2 = \(layers.joined(separator: ", "))",
                    "pre-training: \(pretrainIterations) iterations, batch 128; models: \(niter) iterations, Adam (paper preset), seed \(seed)",
                    String(format: "total time %.0f s", Date().timeIntervalSince(clock))],
            record: record, directory: directory)
    }
}
