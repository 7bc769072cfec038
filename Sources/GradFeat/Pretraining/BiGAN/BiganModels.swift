import Layers
import Tensor

/// The three networks of a BiGAN (Donahue et al., ICLR 2017; ALI, Dumoulin et al., ICLR 2017): the encoder
/// E(x) = fc(f(x)) (the base network's backbone f with a linear map to the latent code as its head), the generator
/// G(z) and the joint discriminator D(x, z).
public struct BiganModels: Sendable {
    /// The base network's backbone followed by its head (named `fc`), mapping an image to its code.
    public var encoder: Sequential
    public var generator: Sequential
    public var discriminator: JointDiscriminator

    /// Fresh models around `network`'s backbone (kept as it is: pre-trained or random), seeded by `seed`.
    public init(network: Network, settings: BiganSettings, seed: UInt64) throws {
        try settings.validate()
        guard network.inputScaling == .unit else {
            throw GradFeatError.invalidConfiguration(
                "BiGAN pre-training generates pixels in [0, 1], but \(network.modelName) expects pixels scaled by "
                    + "mean \(network.inputScaling.mean) and std \(network.inputScaling.std); choose a model that "
                    + "takes pixels in [0, 1] (bigan-cifar, bigan-small)")
        }
        let shape = network.inputShape
        guard shape.rank == 3, shape[1] == BiganGenerator.imageSize, shape[2] == BiganGenerator.imageSize else {
            throw GradFeatError.invalidConfiguration(
                "BiGAN pre-training generates 32×32 images, but \(network.modelName) takes \(shape); use a data set "
                    + "of 32×32 images (cifar10, cifar100, svhn)")
        }
        var rng = SeededRandom(seed: seed ^ 0xB16A)
        let head = Dense(inputs: network.featureCount, outputs: settings.latentSize, rng: &rng)
        encoder = Sequential(network.backbone.layers + [NamedLayer("fc", head)])
        generator = BiganGenerator.make(
            latentSize: settings.latentSize, channels: shape[0], widthDivisor: settings.generatorWidthDivisor,
            seed: rng.next())
        discriminator = try JointDiscriminator(imageShape: shape, settings: settings, seed: rng.next())
    }

    /// `network` with the trained encoder: its backbone, and as head the map to the latent code.
    public func network(like network: Network) throws -> Network {
        var trained = network
        guard let head = encoder.layers.last?.layer as? Dense else {
            throw GradFeatError.invalidConfiguration("the BiGAN encoder lost its fc layer")
        }
        trained.backbone = Sequential(Array(encoder.layers.dropLast()))
        trained.head = LinearHead(head)
        return trained
    }

    /// The code E(x) of `images` in evaluation mode.
    public func encode(_ images: Tensor) throws -> Tensor { try encoder.forward(images, mode: .evaluation) }

    /// The images G(z) of `codes` [N, k] in evaluation mode.
    public func generate(_ codes: Tensor) throws -> Tensor {
        try generator.forward(try codes.reshaped([codes.shape[0], codes.count / max(codes.shape[0], 1), 1, 1]))
    }
}
