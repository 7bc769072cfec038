import Foundation
import Layers
import Tensor

/// Pre-training a base network here, when no pre-trained weights are at hand.
public enum Pretraining {
    /// Self-supervised pre-training by rotation prediction (Gidaris et al., ICLR 2018): the backbone learns to tell
    /// which of four rotations an image went through; no labels are used. Returns the network with its trained
    /// backbone and its 4-way rotation head.
    public static func rotation(
        _ network: Network, images: some BatchSource, configuration: TrainingConfiguration, quiet: Bool = false
    ) throws -> (network: Network, history: [EvaluationRecord]) {
        var start = network
        var rng = SeededRandom(seed: configuration.seed ^ 0x407A7E)
        start.head = LinearHead(features: network.featureCount, classes: 4, rng: &rng)
        return try train(
            start, on: try RotatedBatches(images), configuration: configuration, label: "rotation", quiet: quiet)
    }

    /// Supervised pre-training on a labelled source task (e.g. CIFAR-100 before adapting to CIFAR-10).
    public static func supervised(
        _ network: Network, on data: some BatchSource, configuration: TrainingConfiguration, quiet: Bool = false
    ) throws -> (network: Network, history: [EvaluationRecord]) {
        var start = network
        var rng = SeededRandom(seed: configuration.seed ^ 0x5_0BE5)
        start.head = LinearHead(features: network.featureCount, classes: data.classCount, rng: &rng)
        return try train(start, on: data, configuration: configuration, label: "pretrain", quiet: quiet)
    }

    /// Unsupervised pre-training as an autoencoder: the backbone encodes an image into `f(x)`, a linear decoder (the
    /// head, d → C·H·W) reconstructs it, trained on the mean squared error. Returns the network with its trained
    /// backbone and its decoder as head.
    public static func autoencoder(
        _ network: Network, images: some BatchSource, configuration: TrainingConfiguration, quiet: Bool = false
    ) throws -> (network: Network, history: [EvaluationRecord]) {
        var start = network
        var rng = SeededRandom(seed: configuration.seed ^ 0xAE)
        start.head = LinearHead(features: network.featureCount, classes: images.sampleShape.count, rng: &rng)
        return try train(
            start, on: Reconstruction(images), configuration: configuration, label: "autoencoder",
            loss: MeanSquaredError(), quiet: quiet)
    }

    /// BiGAN/ALI pre-training (``BiganPretraining``): trains the encoder E(x) = fc(f(x)) with a generator and a
    /// joint discriminator, and returns the network with its trained backbone and, as head, E's map to the code.
    /// Beside `files.weights` it writes, at every checkpoint, the checkpoint, a sample grid of G(z) and G(E(x)) and
    /// the loss curves (``BiganFiles``). With `resume` it continues the checkpoint found there, if any; without, a
    /// checkpoint found there is refused rather than overwritten.
    public static func bigan(
        _ network: Network, images: some BatchSource, configuration: TrainingConfiguration,
        settings: BiganSettings = BiganSettings(), files: BiganFiles, resume: Bool, quiet: Bool = false
    ) throws -> (network: Network, state: BiganState) {
        var pretraining = BiganPretraining(configuration: configuration, settings: settings)
        pretraining.quiet = quiet
        var state = try pretraining.start(network)
        let checkpoint = files.checkpoint
        if FileManager.default.fileExists(atPath: checkpoint.path) {
            guard resume else {
                throw GradFeatError.invalidConfiguration(
                    "\(checkpoint.path) holds a BiGAN run already; pass --resume to continue it, or write the "
                        + "weights to another --output")
            }
            try BiganCheckpoint.load(
                checkpoint, into: &state, configuration: configuration, settings: settings, model: network.modelName)
            if !quiet {
                Log.note("resuming BiGAN pre-training from \(checkpoint.path) at iteration \(state.iteration)")
            }
        }
        // The same 64 codes and 16 images in every grid, so the grids show one run's progress; the images
        // are spread evenly over the set, which is often stored class by class.
        var rng = SeededRandom(seed: configuration.seed ^ 0x5A3D_1E)
        let codes = Tensor.normal([64, settings.latentSize], using: &rng)
        let shown = min(16, images.count)
        let reals = try images.batch((0..<shown).map { $0 * images.count / shown }).inputs
        try FileManager.default.createDirectory(at: files.folder, withIntermediateDirectories: true)
        try pretraining.train(&state, on: images) { state in
            try BiganCheckpoint.save(
                state, configuration: configuration, settings: settings, model: network.modelName, to: checkpoint)
            let grid = try BiganFiles.sampleGrid(state, codes: codes, reals: reals)
            try Data(grid).write(to: files.samples(at: state.iteration), options: .atomic)
            try files.writeCurves(state.history)
        }
        return (try state.models.network(like: network), state)
    }

    static func train(
        _ network: Network, on data: some BatchSource, configuration: TrainingConfiguration, label: String,
        loss: any Loss = SoftmaxCrossEntropy(), quiet: Bool
    ) throws -> (network: Network, history: [EvaluationRecord]) {
        var extractor: any FeatureExtractor = WholeNetwork(network)
        var trainer = Trainer(configuration: configuration)
        trainer.label = label
        trainer.quiet = quiet
        let history = try trainer.train(&extractor, on: data, loss: loss)
        return ((extractor as! WholeNetwork).network, history) // the same extractor we made above
    }
}

/// Images as their own targets (flattened), for the autoencoder.
struct Reconstruction<Base: BatchSource>: BatchSource {
    let base: Base
    init(_ base: Base) { self.base = base }
    var count: Int { base.count }
    var sampleShape: Shape { base.sampleShape }
    var classCount: Int { sampleShape.count }

    func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        let (images, _) = try base.batch(indices)
        return (images, .values(try images.reshaped([indices.count, sampleShape.count])))
    }
}
