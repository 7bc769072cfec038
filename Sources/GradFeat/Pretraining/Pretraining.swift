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
