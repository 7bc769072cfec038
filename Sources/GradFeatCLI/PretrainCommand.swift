import ArgumentParser
import Foundation
import GradFeat
import Layers

/// Pre-training a base network here.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract:
            "Pre-train a base network: rotation prediction, BiGAN or autoencoder (no labels) or supervised, and save its weights."
    )

    enum Method: String, ExpressibleByArgument, CaseIterable { case rotation, supervised, autoencoder, bigan }

    @OptionGroup var data: DataOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var training: TrainingOptions

    @Option(
        help:
            "rotation (self-supervised, Gidaris et al. 2018), supervised, autoencoder (unsupervised, linear decoder) or bigan (unsupervised BiGAN/ALI, the paper's encoder; `docs/BIGAN.md`)."
    )
    var method = Method.rotation

    @Option(help: "bigan: the size of the latent code z.")
    var latentSize = BiganSettings().latentSize

    @Option(help: "bigan: divide the generator's and discriminator's channel counts (ALI's) by 1, 2, 4 or 8.")
    var biganWidthDivisor = BiganSettings().generatorWidthDivisor

    @Flag(help: "bigan: continue the checkpoint beside --output (<stem>-bigan-checkpoint.h5) where it stopped.")
    var resume = false

    @Option(help: "Weights file to write (HDF5).")
    var output: String

    @Flag(help: "Print no progress.")
    var quiet = false

    @OptionGroup var process: ProcessOptions

    var biganSettings: BiganSettings {
        BiganSettings(
            latentSize: latentSize, generatorWidthDivisor: biganWidthDivisor,
            discriminatorWidthDivisor: biganWidthDivisor)
    }

    /// The keys this command sets differently from the preset: batch 128, and for bigan ALI's and DCGAN's optimiser
    /// (`BiganPretraining.defaultConfiguration`).
    func commandDefaults() -> ConfigLayer {
        guard method == .bigan else {
            return ConfigLayer(values: ["batchsize": .int(128)], origins: ["batchsize": "pretrain's default"])
        }
        let bigan = BiganPretraining.defaultConfiguration()
        let values: [String: ConfigValue] = [
            "batchsize": .int(Int64(bigan.batchSize)), "lr": .double(Double(bigan.learningRate)),
            "wd": .double(Double(bigan.weightDecay)), "stepsize": .int(Int64(bigan.stepSize)),
            "niter": .int(Int64(bigan.iterations)),
            "eval_every": .int(Int64(bigan.evaluateEvery)), "checkpoint_every": .int(Int64(bigan.checkpointEvery)),
        ]
        return ConfigLayer(values: values, origins: values.mapValues { _ in "pretrain --method bigan's default" })
    }

    func run() throws {
        try process.apply()
        if method != .bigan,
            resume || latentSize != BiganSettings().latentSize
                || biganWidthDivisor != BiganSettings().generatorWidthDivisor
        {
            throw ValidationError(
                "--resume, --latent-size and --bigan-width-divisor apply to --method bigan only; drop them, or pass "
                    + "--method bigan")
        }
        try biganSettings.validate()
        let file = try training.fileLayer()
        for key in ["mode", "linearize", "split", "output", "omega", "pretrain"] where file.values[key] != nil {
            throw ValidationError(
                "config file \(training.config ?? ""): '\(key)' does not apply to `gradfeat pretrain`; remove it, or "
                    + "pass the file to `gradfeat train`")
        }
        let commandLine = ConfigLayer.given(data: data, network: network, training: training)
        let spec = try ExperimentSpec.resolve(
            defaults: ExperimentSpec(training: .paper(iterations: 5_000)), commandDefaults: commandDefaults(),
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
        let url = URL(fileURLWithPath: output)
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
        case .bigan:
            let lock = try RunLock(url.deletingLastPathComponent())
            defer { withExtendedLifetime(lock) {} }
            trained = try Pretraining.bigan(
                start, images: loaded.train, configuration: configuration, settings: biganSettings,
                files: BiganFiles(weights: url), resume: resume, quiet: quiet
            ).network
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try WeightsFile.save(trained, to: url)
        try writeJSON(
            PretrainRecord(
                method: method.rawValue, config: configuration, bigan: method == .bigan ? biganSettings : nil),
            to: url.deletingPathExtension().appendingPathExtension("json"))
        print(
            String(
                format: "pre-trained %@ by %@ on %@: %d iterations in %.0f s → %@", spec.model,
                method.rawValue, loaded.description, configuration.iterations, Date().timeIntervalSince(clock), output))
    }
}

/// What `gradfeat pretrain` writes beside the weights (`<stem>.json`): the method, the optimiser and, for bigan,
/// the generator's and discriminator's settings.
struct PretrainRecord: Encodable {
    var method: String
    var config: TrainingConfiguration
    var bigan: BiganSettings?
}
