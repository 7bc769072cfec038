/// The shapes of a BiGAN's generator and discriminator, which the encoder (the base network) does not decide.
/// Saved in every BiGAN checkpoint and beside the weights it writes.
///
/// The layers follow ALI's CIFAR-10 model (Dumoulin et al., ICLR 2017): a 64-wide latent, a generator that mirrors
/// the paper's encoder with transposed convolutions, and a discriminator whose image branch is that encoder again,
/// with dropout 0.2 on every layer. The default halves the generator's and discriminator's widths (the encoder keeps
/// the paper's): at full width a step costs four times the FLOPs, about 1 s at batch 64 on two cores.
public struct BiganSettings: Codable, Sendable, Equatable {
    /// The size k of the latent code z ~ N(0, I).
    public var latentSize: Int
    /// Divides every channel count of the generator (1: ALI's widths, 2: half).
    public var generatorWidthDivisor: Int
    /// Divides every channel count of the discriminator.
    public var discriminatorWidthDivisor: Int
    /// The drop probability of the discriminator's dropout layers.
    public var dropout: Float
    /// The slope of the discriminator's leaky ReLUs (the generator's are 0.01, as the encoder's).
    public var discriminatorSlope: Float

    enum CodingKeys: String, CodingKey {
        case latentSize = "latent", generatorWidthDivisor = "generator_width_divisor"
        case discriminatorWidthDivisor = "discriminator_width_divisor", dropout, discriminatorSlope = "d_slope"
    }

    public init(
        latentSize: Int = 64, generatorWidthDivisor: Int = 2, discriminatorWidthDivisor: Int = 2, dropout: Float = 0.2,
        discriminatorSlope: Float = 0.2
    ) {
        self.latentSize = latentSize
        self.generatorWidthDivisor = generatorWidthDivisor
        self.discriminatorWidthDivisor = discriminatorWidthDivisor
        self.dropout = dropout
        self.discriminatorSlope = discriminatorSlope
    }

    /// Throws with the offending setting when a value cannot work.
    public func validate() throws {
        func fail(_ message: String) throws { throw GradFeatError.invalidConfiguration(message) }
        if !(1...4096).contains(latentSize) { try fail("bigan latent size must be 1…4096, got \(latentSize)") }
        for (name, divisor) in [("generator", generatorWidthDivisor), ("discriminator", discriminatorWidthDivisor)]
        where ![1, 2, 4, 8].contains(divisor) {
            try fail("bigan \(name) width divisor must be 1, 2, 4 or 8, got \(divisor)")
        }
        if !(dropout >= 0 && dropout < 1) { try fail("bigan dropout must be in [0, 1), got \(dropout)") }
        if !(discriminatorSlope >= 0 && discriminatorSlope < 1) {
            try fail("bigan discriminator slope must be in [0, 1), got \(discriminatorSlope)")
        }
    }
}
