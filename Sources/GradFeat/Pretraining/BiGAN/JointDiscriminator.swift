import Layers
import Tensor

/// The BiGAN discriminator D(x, z): the logit that an (image, code) pair is an encoded real image (x, E(x)) rather
/// than a generated one (G(z), z). As in ALI's CIFAR-10 model (Dumoulin et al., ICLR 2017), an image branch D_x
/// (the paper's encoder layers), a code branch D_z and a joint branch D_xz on their concatenated outputs:
/// ```
/// D(x, z) = D_xz([D_x(x); D_z(z)])
/// D_x: conv 3→32 k5 s1 · 32→64 k4 s2 · 64→128 k4 s1 · 128→256 k4 s2 · 256→512 k4 s1 → 512
/// D_z: dense k→512 · 512→512          D_xz: dense 1024→1024 · 1024→1
/// ```
/// every hidden layer followed by a leaky ReLU and dropout; widths divided by the settings' divisor.
public struct JointDiscriminator: Sendable {
    public var image: Sequential
    public var code: Sequential
    public var joint: Sequential

    /// What a forward pass keeps for the backward passes: both can run from one forward (same dropout masks).
    public struct Pass: Sendable {
        public var logits: Tensor
        var image: Record
        var code: Record
        var joint: Record
        var imageFeatures: Int
    }

    public init(imageShape: Shape, settings: BiganSettings, seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let divisor = settings.discriminatorWidthDivisor
        let w = [32, 64, 128, 256, 512, 512, 1024].map { max($0 / divisor, 1) }
        var salt: UInt64 = 0
        func hidden(_ name: String, _ layer: any Layer) -> [NamedLayer] {
            salt += 1
            return [
                NamedLayer(name, layer), NamedLayer("\(name)_lrelu", LeakyReLU(slope: settings.discriminatorSlope)),
                NamedLayer("\(name)_dropout", Dropout(probability: settings.dropout, salt: 0xD15C + salt)),
            ]
        }
        let convs = [
            (imageShape[0], w[0], 5, 1), (w[0], w[1], 4, 2), (w[1], w[2], 4, 1), (w[2], w[3], 4, 2), (w[3], w[4], 4, 1),
        ]
        image = Sequential(
            convs.enumerated().flatMap { i, c in
                hidden("conv\(i + 1)", Conv2D(c.0, c.1, kernel: c.2, stride: c.3, rng: &rng))
            } + [NamedLayer("flatten", Flatten())])
        let imageOutput = try image.outputShape(for: Shape([1] + imageShape.dimensions))
        guard imageOutput.rank == 2 else {
            throw GradFeatError.invalidConfiguration(
                "the BiGAN discriminator takes 32×32 images; \(imageShape) leaves \(imageOutput) after its image branch"
            )
        }
        code = Sequential(
            hidden("fc1", Dense(inputs: settings.latentSize, outputs: w[5], rng: &rng))
                + hidden("fc2", Dense(inputs: w[5], outputs: w[5], rng: &rng)))
        joint = Sequential(
            hidden("fc1", Dense(inputs: imageOutput[1] + w[5], outputs: w[6], rng: &rng))
                + [NamedLayer("fc2", Dense(inputs: w[6], outputs: 1, rng: &rng))])
    }

    public var parameters: [Tensor] {
        get { image.parameters + code.parameters + joint.parameters }
        set {
            let (a, b) = (image.parameters.count, code.parameters.count)
            image.parameters = Array(newValue[..<a])
            code.parameters = Array(newValue[a..<(a + b)])
            joint.parameters = Array(newValue[(a + b)...])
        }
    }

    /// Names as a PyTorch module with children `x`, `z` and `xz` would give them.
    public var parameterNames: [String] {
        image.parameterNames.map { "x.\($0)" } + code.parameterNames.map { "z.\($0)" }
            + joint.parameterNames.map { "xz.\($0)" }
    }

    /// The logits [N, 1] for `images` [N, C, H, W] and `codes` [N, k].
    public func apply(images: Tensor, codes: Tensor, mode: Mode) throws -> Pass {
        let x = try image.apply(images, tangent: nil, parameterTangent: nil, mode: mode)
        let z = try code.apply(codes, tangent: nil, parameterTangent: nil, mode: mode)
        let both = try Self.concatenatingColumns(x.value, z.value)
        let xz = try joint.apply(both, tangent: nil, parameterTangent: nil, mode: mode)
        return Pass(
            logits: xz.value, image: x.record, code: z.record, joint: xz.record, imageFeatures: x.value.shape[1])
    }

    /// The gradients of a loss whose gradient at the logits is `logitGradient`: one per parameter, in `parameters`
    /// order, and with `needInputGradients` those of the images and the codes.
    public func vjp(
        _ pass: Pass, logitGradient: Tensor, needInputGradients: Bool, mode: Mode
    ) throws -> (parameters: [Tensor], images: Tensor?, codes: Tensor?) {
        let joined = try joint.vjp(pass.joint, outputGradient: logitGradient, needInputGradient: true, mode: mode)
        guard let both = joined.input else { throw TensorError.invalidArgument("D_xz returned no input gradient") }
        let (dx, dz) = Self.splittingColumns(both, at: pass.imageFeatures)
        let x = try image.vjp(pass.image, outputGradient: dx, needInputGradient: needInputGradients, mode: mode)
        let z = try code.vjp(pass.code, outputGradient: dz, needInputGradient: needInputGradients, mode: mode)
        return (x.parameters + z.parameters + joined.parameters, x.input, z.input)
    }

    /// `[a b]` for `a` [N, p] and `b` [N, q].
    static func concatenatingColumns(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try a.checkRank(2, "D(x, z) image features", pattern: "[N, p]")
        try b.check([a.shape[0], b.count / max(a.shape[0], 1)], "D(x, z) code features")
        let (n, p, q) = (a.shape[0], a.shape[1], b.shape[1])
        return Tensor(shape: [n, p + q]) { out in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    for i in 0..<n {
                        for j in 0..<p { out[i * (p + q) + j] = a[i * p + j] }
                        for j in 0..<q { out[i * (p + q) + p + j] = b[i * q + j] }
                    }
                }
            }
        }
    }

    /// The first `p` columns and the rest of `m` [N, p + q].
    static func splittingColumns(_ m: Tensor, at p: Int) -> (Tensor, Tensor) {
        let (n, width) = (m.shape[0], m.shape[1])
        let q = width - p
        return m.withUnsafeBufferPointer { m in
            let left = Tensor(shape: [n, p]) { out in
                for i in 0..<n { for j in 0..<p { out[i * p + j] = m[i * width + j] } }
            }
            let right = Tensor(shape: [n, q]) { out in
                for i in 0..<n { for j in 0..<q { out[i * q + j] = m[i * width + p + j] } }
            }
            return (left, right)
        }
    }
}
