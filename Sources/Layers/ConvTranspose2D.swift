import Tensor

/// A 2-D transposed convolution over NCHW batches, PyTorch's `nn.ConvTranspose2d`: weight [C, O, kh, kw] (input
/// channels first), bias [O], output `(H − 1)·s − 2p + k + outputPadding`. It is the adjoint of the convolution
/// `conv_W` whose input has this layer's output shape (the generator of a DCGAN or BiGAN upsamples with it):
///
/// ```
/// y = conv_Wᵀ(x) + b                         ⟨ȳ, conv_Wᵀ(x)⟩ = ⟨conv_W(ȳ), x⟩
/// ẏ = conv_Wᵀ(ẋ) + conv_Ẇᵀ(x) + ḃ
/// x̄ = conv_W(ȳ)        W̄ = ∂⟨x, conv_W(ȳ)⟩/∂W        b̄ = Σ_{n,h,w} ȳ
/// ```
/// so every product is one of `ConvolutionGeometry`'s: the forward pass is a convolution's input gradient, the
/// input gradient a convolution's forward pass, the weight gradient a convolution's weight gradient with the roles
/// of input and output gradient exchanged.
public struct ConvTranspose2D: WeightAndBiasLayer {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    /// Rows and columns added at the bottom and right of the output (less than the stride), as PyTorch's
    /// `output_padding`: several output sizes map to one input size under a strided convolution.
    public let outputPadding: (Int, Int)

    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] }
    public var kernelSize: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    /// A transposed convolution initialised as PyTorch's `nn.ConvTranspose2d` does (its fan-in is computed from
    /// the weight's dimension 1, the output channels).
    public init(
        inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), bias: Bool = true,
        rng: inout SeededRandom
    ) {
        let fanIn = outChannels * kernelSize.0 * kernelSize.1
        weight = .kaimingUniform([inChannels, outChannels, kernelSize.0, kernelSize.1], fanIn: fanIn, using: &rng)
        self.bias = bias ? .kaimingUniform([outChannels], fanIn: fanIn, using: &rng) : nil
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    /// Square kernel, stride and padding.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
        bias: Bool = true, rng: inout SeededRandom
    ) {
        self.init(
            inChannels: inChannels, outChannels: outChannels, kernelSize: (kernel, kernel), stride: (stride, stride),
            padding: (padding, padding), outputPadding: (outputPadding, outputPadding), bias: bias, rng: &rng)
    }

    /// A transposed convolution with the given weight [C, O, kh, kw] and optional bias [O].
    public init(
        weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
        outputPadding: (Int, Int) = (0, 0)
    ) throws {
        try weight.checkRank(4, "ConvTranspose2D weight", pattern: "[C, O, kh, kw]")
        if let bias { try bias.check([weight.shape[1]], "ConvTranspose2D bias") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    /// The geometry of the convolution this layer is the adjoint of: its input is this layer's output, its output
    /// this layer's input.
    public func geometry(for input: Shape) throws -> ConvolutionGeometry {
        guard input.rank == 4 else {
            throw TensorError.invalidArgument("ConvTranspose2D: expected input [N, C, H, W], got shape \(input)")
        }
        guard input[1] == inChannels else {
            throw TensorError.shapeMismatch(
                operation: "ConvTranspose2D input channels", expected: [input[0], inChannels, input[2], input[3]],
                got: input)
        }
        guard stride.0 > 0, stride.1 > 0, padding.0 >= 0, padding.1 >= 0,
            (0..<max(stride.0, 1)).contains(outputPadding.0), (0..<max(stride.1, 1)).contains(outputPadding.1)
        else {
            throw TensorError.invalidArgument(
                "ConvTranspose2D: stride \(stride) must be positive, padding \(padding) not negative, and output "
                    + "padding \(outputPadding) smaller than the stride")
        }
        let height = (input[2] - 1) * stride.0 - 2 * padding.0 + kernelSize.0 + outputPadding.0
        let width = (input[3] - 1) * stride.1 - 2 * padding.1 + kernelSize.1 + outputPadding.1
        guard input[2] > 0, input[3] > 0, height > 0, width > 0 else {
            throw TensorError.invalidArgument(
                "ConvTranspose2D: input \(input) with kernel \(kernelSize), stride \(stride) and padding \(padding) "
                    + "gives an output of \(height)x\(width)")
        }
        let geometry = try ConvolutionGeometry(
            batch: input[0], inChannels: outChannels, height: height, width: width, outChannels: inChannels,
            kernel: kernelSize, stride: stride, padding: padding)
        guard geometry.outHeight == input[2], geometry.outWidth == input[3] else {
            throw TensorError.invalidArgument(
                "ConvTranspose2D: an output of \(height)x\(width) does not convolve back to the input's "
                    + "\(input[2])x\(input[3])")
        }
        return geometry
    }

    public func outputShape(for input: Shape) throws -> Shape { try geometry(for: input).inputShape }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        let geometry = try geometry(for: input.shape)
        if let tangent { try tangent.check(input.shape, "ConvTranspose2D input tangent") }
        try checkParameterTangent(parameterTangent, "ConvTranspose2D")
        let value = Self.transposed(geometry, input, weight, bias)
        var outputTangent: Tensor?
        if let parameterTangent {
            var t = Self.transposed(geometry, input, parameterTangent[0], bias == nil ? nil : parameterTangent[1])
            if let tangent { t = try t + Self.transposed(geometry, tangent, weight, nil) }
            outputTangent = t
        } else if let tangent {
            outputTangent = Self.transposed(geometry, tangent, weight, nil)
        }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        let geometry = try geometry(for: record.input.shape)
        try outputGradient.check(geometry.inputShape, "ConvTranspose2D output gradient")
        // x̄ = conv_W(ȳ); W̄ is the convolution's weight gradient for input ȳ and output gradient x.
        var dWeight = Tensor.uninitialized(weight.shape)
        var dInput = needInputGradient ? Tensor.uninitialized(record.input.shape) : nil
        outputGradient.withUnsafeBufferPointer { g in
            record.input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    dWeight.withUnsafeMutableBufferPointer { dw in
                        geometry.backward(
                            g: x.baseAddress!, x: g.baseAddress!, weight: w.baseAddress!, dx: nil,
                            dWeight: dw.baseAddress!, dBias: nil)
                    }
                    if dInput != nil {
                        dInput!.withUnsafeMutableBufferPointer { dx in
                            geometry.forward(x: g.baseAddress!, weight: w.baseAddress!, bias: nil, y: dx.baseAddress!)
                        }
                    }
                }
            }
        }
        let dBias = try bias.map { _ in try Self.channelSums(outputGradient) }
        return Gradients(input: dInput, parameters: [dWeight] + (dBias.map { [$0] } ?? []))
    }

    /// `conv_wᵀ(x) + b`: a convolution's input gradient for output gradient `x`, plus the bias.
    static func transposed(_ geometry: ConvolutionGeometry, _ x: Tensor, _ w: Tensor, _ b: Tensor?) -> Tensor {
        var y = Tensor.uninitialized(geometry.inputShape) // `backward` overwrites dx
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    // The convolution's input is only read for a weight gradient, which is not asked for.
                    geometry.backward(
                        g: xp.baseAddress!, x: xp.baseAddress!, weight: wp.baseAddress!, dx: yp.baseAddress!,
                        dWeight: nil, dBias: nil)
                    guard let b else { return }
                    b.withUnsafeBufferPointer { bp in
                        let plane = geometry.height * geometry.width, channels = geometry.inChannels
                        for index in 0..<(geometry.batch * channels) {
                            let value = bp[index % channels], start = yp.baseAddress! + index * plane
                            for i in 0..<plane { start[i] += value }
                        }
                    }
                }
            }
        }
        return y
    }

    /// `Σ_{n,h,w} g[n, o, h, w]` for each channel `o`.
    static func channelSums(_ g: Tensor) throws -> Tensor {
        let (batch, channels, plane) = (g.shape[0], g.shape[1], g.shape[2] * g.shape[3])
        var sums = [Float](repeating: 0, count: channels)
        g.withUnsafeBufferPointer { gp in
            for index in 0..<(batch * channels) {
                var s: Float = 0
                for i in 0..<plane { s += gp[index * plane + i] }
                sums[index % channels] += s
            }
        }
        return try Tensor(shape: [channels], scalars: sums)
    }
}
