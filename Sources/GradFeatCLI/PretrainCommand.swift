import ArgumentParser
import Foundation
import GradFeat
import Layers

/// Pre-training a base network here.
struct PretrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pre-train a base network: rotation prediction (no labels) or supervised, and save its weights.")

    enum Method: String, ExpressibleByArgument, CaseIterable { case rotation, supervised, autoencoder }

    @OptionGroup var data: DataOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var training: TrainingOptions

    @Option(help: "rotation (self-supervised, Gidaris et al. 2018), supervised, or autoencoder (unsupervised, linear decoder).")
    var method = Method.rotation

    @Option(help: "Weights file to write (HDF5).")
    var output: String

    @Flag(help: "Print no progress.")
    var quiet = false

    func run() async throws {
        let configuration = try training.configuration(defaultIterations: 5_000, defaultBatchSize: 128)
        let probe = try ModelZoo.make(network.model, classes: 2, seed: training.seed)
        let loaded = try loadData(data, scaling: probe.inputScaling, seed: training.seed, padTo: probe.inputShape[1])
        let start = try network.network(
            classes: loaded.train.classCount, channels: loaded.train.imageShape[0], size: loaded.train.imageShape[1],
            seed: training.seed)
        let clock = Date()
        let trained: Network
        switch method {
        case .rotation:
            trained = try Pretraining.rotation(start, images: loaded.train, configuration: configuration, quiet: quiet).network
        case .supervised:
            trained = try Pretraining.supervised(start, on: loaded.train, configuration: configuration, quiet: quiet).network
        case .autoencoder:
            trained = try Pretraining.autoencoder(start, images: loaded.train, configuration: configuration, quiet: quiet).network
        }
        let url = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try WeightsFile.save(trained, to: url)
        try writeJSON(configuration, to: url.deletingPathExtension().appendingPathExtension("json"))
        print(String(format: "pre-trained %@ by %@ on %@: %d iterations in %.0f s → %@", network.model,
                     method.rawValue, loaded.description, configuration.iterations, Date().timeIntervalSince(clock), output))
    }
}
