import Tensor

/// A 2-D convolution over NCHW batches with PyTorch's weight layout [O, C, kh, kw] and bias [O].
///
/// ```
/// y[n, o] = Σ_c W[o, c] ⋆ x[n, c] + b[o]
/// ẏ = conv(x, Ẇ) + ḃ + conv(ẋ, W)
/// ```
/// The two tangent products accumulate into one output buffer; the `conv(ẋ, W)` term is skipped when ẋ = 0
/// (the first linearized layer). Products with `W` itself share one `ConvolutionWeightCache`, so a frozen
/// convolution transforms its weights for Winograd once, not in every pass.
public struct Conv2D: ScaledParameterLayer, WeightAndBiasLayer {
    public var weight: Tensor {
        didSet { weightCache = ConvolutionWeightCache() } // any change to the weights (in place included)
    }
    /// `weight`'s Winograd transform; copies share it until one of them changes its weights.
    public private(set) var weightCache = ConvolutionWeightCache()
    public var bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    /// A convolution initialised as PyTorch's `nn.Conv2d` does.
    public init(
        inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (Int, Int) = (0, 0), bias: Bool = true, rng: inout SeededRandom
    ) {
        let fanIn = inChannels * kernelSize.0 * kernelSize.1
        weight = .kaimingUniform([outChannels, inChannels, kernelSize.0, kernelSize.1], fanIn: fanIn, using: &rng)
        self.bias = bias ? .kaimingUniform([outChannels], fanIn: fanIn, using: &rng) : nil
        self.stride = stride
        self.padding = padding
    }

    /// Square kernel, stride and padding.
    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        rng: inout SeededRandom
    ) {
        self.init(
            inChannels: inChannels, outChannels: outChannels, kernelSize: (kernel, kernel), stride: (stride, stride),
            padding: (padding, padding), bias: bias, rng: &rng)
    }

    /// A convolution with the given weight [O, C, kh, kw] and optional bias [O].
    public init(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) throws {
        try weight.checkRank(4, "Conv2D weight", pattern: "[O, C, kh, kw]")
        if let bias { try bias.check([weight.shape[0]], "Conv2D bias") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
    }

    /// The geometry for an input shape, checking channels and kernel fit.
    public func geometry(for input: Shape) throws -> ConvolutionGeometry {
        guard input.rank == 4 else {
            throw TensorError.invalidArgument("Conv2D: expected input [N, C, H, W], got shape \(input)")
        }
        guard input[1] == inChannels else {
            throw TensorError.shapeMismatch(
                operation: "Conv2D input channels",
                expected: [input[0], inChannels, input[2], input[3]], got: input)
        }
        return try ConvolutionGeometry(
            batch: input[0], inChannels: inChannels, height: input[2], width: input[3], outChannels: outChannels,
            kernel: kernelSize, stride: stride, padding: padding)
    }

    public func outputShape(for input: Shape) throws -> Shape { try geometry(for: input).outputShape }

    public func apply(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, tangentScales: [Float], mode: Mode
    ) throws -> LayerOutput {
        let geometry = try geometry(for: input.shape)
        if let tangent { try tangent.check(input.shape, "Conv2D input tangent") }
        try checkParameterTangent(parameterTangent, "Conv2D")
        try checkScaleCount(tangentScales)
        let value = convolve(geometry, input, weight, bias, cache: weightCache)
        var outputTangent: Tensor?
        if let parameterTangent {
            var t = convolve(
                geometry, input, parameterTangent[0], bias == nil ? nil : parameterTangent[1], cache: nil,
                alpha: tangentScales[0], biasScale: tangentScales.count > 1 ? tangentScales[1] : 1)
            if let tangent { accumulate(geometry, tangent, into: &t) }
            outputTangent = t
        } else if let tangent {
            outputTangent = convolve(geometry, tangent, weight, nil, cache: weightCache)
        }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input))
    }

    /// `σ(conv(x, W) + b)`: the convolution and the activation after it in one pass over the output (the bias, the
    /// activation and a second tensor would otherwise take three).
    public func forward(_ input: Tensor, then activation: any PiecewiseLinearActivation) throws -> Tensor {
        let geometry = try geometry(for: input.shape)
        return convolve(geometry, input, weight, bias, cache: weightCache, negativeSlope: activation.negativeSlope)
    }

    public func vjp(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool, gradientScales: [Float], mode: Mode
    ) throws -> Gradients {
        let geometry = try geometry(for: record.input.shape)
        try outputGradient.check(geometry.outputShape, "Conv2D output gradient")
        try checkScaleCount(gradientScales)
        // Every output below is overwritten by `backward`.
        var dWeight = Tensor.uninitialized(weight.shape)
        var dBias = bias.map { Tensor.uninitialized($0.shape) }
        var dInput = needInputGradient ? Tensor.uninitialized(record.input.shape) : nil
        outputGradient.withUnsafeBufferPointer { g in
            record.input.withUnsafeBufferPointer { x in
                weight.withUnsafeBufferPointer { w in
                    dWeight.withUnsafeMutableBufferPointer { dw in
                        withOptionalMutablePointer(&dBias) { db in
                            withOptionalMutablePointer(&dInput) { dx in
                                geometry.backward(
                                    g: g.baseAddress!, x: x.baseAddress!, weight: w.baseAddress!, dx: dx,
                                    dWeight: dw.baseAddress!, dBias: db, weightScale: gradientScales[0],
                                    biasScale: gradientScales.count > 1 ? gradientScales[1] : 1,
                                    weightCache: weightCache)
                            }
                        }
                    }
                }
            }
        }
        return Gradients(input: dInput, parameters: [dWeight] + (dBias.map { [$0] } ?? []))
    }

    /// `alpha · conv(x, w) + biasScale · b`; `cache` only when `w` is `weight`.
    private func convolve(
        _ geometry: ConvolutionGeometry, _ x: Tensor, _ w: Tensor, _ b: Tensor?, cache: ConvolutionWeightCache?,
        alpha: Float = 1, biasScale: Float = 1, negativeSlope: Float? = nil
    ) -> Tensor {
        var y = Tensor.uninitialized(geometry.outputShape) // `forward` writes every element
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    withOptionalPointer(b) { bp in
                        geometry.forward(
                            x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp, y: yp.baseAddress!, alpha: alpha,
                            biasScale: biasScale, negativeSlope: negativeSlope, weightCache: cache)
                    }
                }
            }
        }
        return y
    }

    /// `y += conv(x, weight)`.
    private func accumulate(_ geometry: ConvolutionGeometry, _ x: Tensor, into y: inout Tensor) {
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    geometry.forward(
                        x: xp.baseAddress!, weight: wp.baseAddress!, bias: nil, y: yp.baseAddress!, accumulate: true,
                        weightCache: weightCache)
                }
            }
        }
    }
}
