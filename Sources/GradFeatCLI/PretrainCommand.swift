import ArgumentParser
import Foundation
import GradFeat
import Layers

/// Pre-training a base network here.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pre-train a base network: rotation prediction (no labels) or supervised, and save its weights.")

    enum Method: String, ExpressibleByArgument, CaseIterable { case rotation, supervised, autoencoder }

    @OptionGroup var data: DataOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var training: TrainingOptions

    @Option(
        help:
            "rotation (self-supervised, Gidaris et al. 2018), supervised, or autoencoder (unsupervised, linear decoder)."
    )
    var method = Method.rotation

    @Option(help: "Weights file to write (HDF5).")
    var output: String

    @Flag(help: "Print no progress.")
    var quiet = false

    @OptionGroup var logging: LoggingOptions

    func run() throws {
        logging.apply()
        let file = try training.fileLayer()
        for key in ["mode", "linearize", "split", "output", "omega", "pretrain"] where file.values[key] != nil {
            throw ValidationError(
                "config file \(training.config ?? ""): '\(key)' does not apply to `gradfeat pretrain`; remove it, or "
                    + "pass the file to `gradfeat train`")
        }
        let commandLine = ConfigLayer.given(data: data, network: network, training: training)
        let spec = try ExperimentSpec.resolve(
            defaults: ExperimentSpec(training: .paper(iterations: 5_000)),
            commandDefaults: ConfigLayer(
                values: ["batchsize": .int(128)], origins: ["batchsize": "pretrain's default"]),
            file: file, commandLine: commandLine)
        try spec.training.validate()
        let model = try GradFeatCLI.plugins.models.entry(spec.model)
        let loaded = try ExperimentData.load(
            spec.data, model: model, seed: spec.training.seed,
            plugins: GradFeatCLI.plugins, quiet: quiet)
        let start = try ModelZoo.make(
            spec.model, classes: loaded.train.classCount, inputChannels: loaded.train.imageShape[0],
            inputSize: loaded.train.imageShape[1], seed: spec.training.seed,
            weights: spec.weights.map { URL(fileURLWithPath: $0) }, keepInitial: spec.keepInitial)
        let clock = Date()
        let configuration = spec.training
        let trained: Network
        switch method {
        case .rotation:
            trained = try Pretraining.rotation(start, images: loaded.train, configuration: configuration, quiet: quiet)
                .network
        case .supervised:
            trained = try Pretraining.supervised(start, on: loaded.train, configuration: configuration, quiet: quiet)
                .network
        case .autoencoder:
            trained = try Pretraining.autoencoder(
                start, images: loaded.train, configuration: configuration, quiet: quiet
            ).network
        }
        let url = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try WeightsFile.save(trained, to: url)
        try writeJSON(configuration, to: url.deletingPathExtension().appendingPathExtension("json"))
        print(
            String(
                format: "pre-trained %@ by %@ on %@: %d iterations in %.0f s → %@", spec.model,
                method.rawValue, loaded.description, configuration.iterations, Date().timeIntervalSince(clock), output))
    }
}
