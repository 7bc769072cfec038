import Tensor

/// A fully connected layer `y = x Wᵀ + b` with PyTorch's layout: weight [O, I], bias [O], input [N, I].
///
/// ```
/// ẏ = x Ẇᵀ + ḃ + ẋ Wᵀ
/// ```
public struct Dense: ScaledParameterLayer, WeightAndBiasLayer {
    public var weight: Tensor
    public var bias: Tensor?

    public var inputCount: Int { weight.shape[1] }
    public var outputCount: Int { weight.shape[0] }

    /// A layer initialised as PyTorch's `nn.Linear` does.
    public init(inputs: Int, outputs: Int, bias: Bool = true, rng: inout SeededRandom) {
        weight = .kaimingUniform([outputs, inputs], fanIn: inputs, using: &rng)
        self.bias = bias ? .kaimingUniform([outputs], fanIn: inputs, using: &rng) : nil
    }

    public init(weight: Tensor, bias: Tensor?) throws {
        try weight.checkRank(2, "Dense weight", pattern: "[O, I]")
        if let bias { try bias.check([weight.shape[0]], "Dense bias") }
        self.weight = weight
        self.bias = bias
    }

    public func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 2, input[1] == inputCount else {
            throw TensorError.shapeMismatch(
                operation: "Dense input", expected: [input.rank > 0 ? input[0] : 1, inputCount], got: input)
        }
        return [input[0], outputCount]
    }

    public func apply(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, tangentScales: [Float], mode: Mode
    ) throws -> LayerOutput {
        let outShape = try outputShape(for: input.shape)
        if let tangent { try tangent.check(input.shape, "Dense input tangent") }
        try checkParameterTangent(parameterTangent, "Dense")
        try checkScaleCount(tangentScales)
        let value = linear(input, weight, bias, outShape)
        var outputTangent: Tensor?
        if let parameterTangent {
            var t = Tensor.uninitialized(outShape)
            linear(
                input, parameterTangent[0], bias == nil ? nil : parameterTangent[1], accumulatingInto: &t,
                accumulate: false, alpha: tangentScales[0], biasScale: tangentScales.count > 1 ? tangentScales[1] : 1)
            if let tangent { linear(tangent, weight, nil, accumulatingInto: &t) }
            outputTangent = t
        } else if let tangent {
            outputTangent = linear(tangent, weight, nil, outShape)
        }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input))
    }

    public func vjp(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool, gradientScales: [Float], mode: Mode
    ) throws -> Gradients {
        let n = record.input.shape[0]
        try outputGradient.check([n, outputCount], "Dense output gradient")
        try checkScaleCount(gradientScales)
        // Every output below is overwritten.
        var dWeight = Tensor.uninitialized(weight.shape)
        var dBias = bias.map { Tensor.uninitialized($0.shape) }
        var dInput = needInputGradient ? Tensor.uninitialized(record.input.shape) : nil
        let (inputs, outputs) = (inputCount, outputCount)
        outputGradient.withUnsafeBufferPointer { g in
            record.input.withUnsafeBufferPointer { x in
                dWeight.withUnsafeMutableBufferPointer { dw in
                    withOptionalMutablePointer(&dBias) { db in
                        LinearKernels.parameterGradients(
                            g: g.baseAddress!, x: x.baseAddress!, dWeight: dw.baseAddress!, dBias: db, n: n,
                            inputs: inputs, outputs: outputs, alpha: gradientScales[0],
                            biasScale: gradientScales.count > 1 ? gradientScales[1] : 1)
                    }
                }
            }
            weight.withUnsafeBufferPointer { w in
                withOptionalMutablePointer(&dInput) { dx in
                    if let dx {
                        LinearKernels.inputGradient(
                            g: g.baseAddress!, weight: w.baseAddress!, dx: dx, n: n, inputs: inputs, outputs: outputs)
                    }
                }
            }
        }
        return Gradients(input: dInput, parameters: [dWeight] + (dBias.map { [$0] } ?? []))
    }

    private func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ shape: Shape) -> Tensor {
        var y = Tensor.uninitialized(shape)
        linear(x, w, b, accumulatingInto: &y, accumulate: false)
        return y
    }

    private func linear(
        _ x: Tensor, _ w: Tensor, _ b: Tensor?, accumulatingInto y: inout Tensor, accumulate: Bool = true,
        alpha: Float = 1, biasScale: Float = 1
    ) {
        let (n, inputs, outputs) = (x.shape[0], inputCount, outputCount)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    withOptionalPointer(b) { bp in
                        LinearKernels.forward(
                            x: xp.baseAddress!, weight: wp.baseAddress!, bias: bp, y: yp.baseAddress!, n: n,
                            inputs: inputs, outputs: outputs, accumulate: accumulate, alpha: alpha,
                            biasScale: biasScale)
                    }
                }
            }
        }
    }
}
