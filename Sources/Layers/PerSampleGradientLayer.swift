import Tensor

/// One weight-and-bias layer's per-sample parameter gradients in factored form. For sample n,
/// ```
/// ∂ℓₙ/∂W = Σₚ δ[n, :, p] z[n, :, p]ᵀ        ∂ℓₙ/∂b = Σₚ δ[n, :, p]
/// ```
/// with δ the gradient at the layer's output and z its input patches (a convolution's im2col columns, a dense
/// layer's input row, P = 1). Keeping the two factors instead of the product is what makes per-sample gradients of a
/// whole batch cheap: a structured projection `(A ⊗ B)` applies as `Σₚ (A δₚ)(B zₚ)ᵀ` and never forms the gradient.
public struct SampleGradientFactors: Sendable {
    /// δ, [N, O, P].
    public var outputGradient: Tensor
    /// z, [N, I, P]; `I` is the weight's fan-in (`C·kh·kw`), in the weight's (c, ky, kx) order.
    public var inputColumns: Tensor
    /// The shape of the weight, `[O, …]` with `I` scalars after the first axis.
    public var weightShape: Shape
    /// Whether the layer has a bias (the factor's parameters are then `[weight, bias]`).
    public var hasBias: Bool

    public init(outputGradient: Tensor, inputColumns: Tensor, weightShape: Shape, hasBias: Bool) throws {
        try outputGradient.checkRank(3, "per-sample output gradient", pattern: "[N, O, P]")
        try inputColumns.checkRank(3, "per-sample input columns", pattern: "[N, I, P]")
        let (n, o, p) = (outputGradient.shape[0], outputGradient.shape[1], outputGradient.shape[2])
        try inputColumns.check([n, weightShape.count / max(o, 1), p], "per-sample input columns")
        guard weightShape[0] == o else {
            throw TensorError.shapeMismatch(
                operation: "per-sample output gradient", expected: [n, weightShape[0], p],
                got: outputGradient.shape)
        }
        self.outputGradient = outputGradient
        self.inputColumns = inputColumns
        self.weightShape = weightShape
        self.hasBias = hasBias
    }

    public var samples: Int { outputGradient.shape[0] }
    public var outputs: Int { outputGradient.shape[1] }
    public var positions: Int { outputGradient.shape[2] }
    /// The weight's fan-in `I`.
    public var inputs: Int { inputColumns.shape[1] }
    /// The scalars of the layer's parameters, `O·I (+ O)`.
    public var parameterCount: Int { outputs * inputs + (hasBias ? outputs : 0) }
}

/// The result of a per-sample backward pass: the input gradient (summed over nothing: each sample's own) and the
/// factors of every weight-and-bias leaf inside the layer, in `parameters` order.
public struct PerSampleGradients: Sendable {
    public var input: Tensor?
    public var factors: [SampleGradientFactors]

    public init(input: Tensor?, factors: [SampleGradientFactors]) {
        self.input = input
        self.factors = factors
    }
}

/// A layer that can hand out its per-sample parameter gradients in one backward pass over a batch (in evaluation
/// mode samples do not interact, so the batch's output gradient holds every sample's own δ).
///
/// Convolutions and dense layers give their factors; `Sequential` and `Residual` collect their children's. A user's
/// layer with parameters conforms to take part in `gradfeat extract --features gradient|loss-gradient` and in
/// attribution; layers without parameters need nothing (their ordinary `vjp` carries δ through).
public protocol PerSampleGradientLayer: Layer {
    /// The input gradient when `needInputGradient`, and the factors of each weight-and-bias leaf, in `parameters`
    /// order (every parameter belongs to exactly one factor).
    func perSampleVJP(_ record: Record, outputGradient: Tensor, needInputGradient: Bool) throws -> PerSampleGradients
}

extension Layer {
    /// The input gradient this layer was asked for (`input`); a layer that gave none is named instead of trapping.
    public func requireInputGradient(_ input: Tensor?) throws -> Tensor {
        guard let input else {
            throw TensorError.invalidArgument("\(type(of: self)) gave no input gradient although one was asked for")
        }
        return input
    }

    /// `perSampleVJP` for any layer: a `PerSampleGradientLayer`'s own, the ordinary `vjp` for a layer without
    /// parameters; a layer with parameters that does not conform is refused by name.
    public func perSampleGradients(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool
    ) throws -> PerSampleGradients {
        if let layer = self as? any PerSampleGradientLayer {
            return try layer.perSampleVJP(record, outputGradient: outputGradient, needInputGradient: needInputGradient)
        }
        guard parameters.isEmpty else {
            throw TensorError.invalidArgument(
                "\(type(of: self)) has parameters but no per-sample gradients: conform it to PerSampleGradientLayer "
                    + "(or linearize other layers)")
        }
        let result = try vjp(
            record, outputGradient: outputGradient, needInputGradient: needInputGradient,
            mode: .evaluation)
        return PerSampleGradients(input: result.input, factors: [])
    }
}

extension Conv2D: PerSampleGradientLayer {
    public func perSampleVJP(_ record: Record, outputGradient: Tensor, needInputGradient: Bool) throws
        -> PerSampleGradients
    {
        let geometry = try geometry(for: record.input.shape)
        try outputGradient.check(geometry.outputShape, "Conv2D output gradient")
        var dInput = needInputGradient ? Tensor.uninitialized(record.input.shape) : nil
        let columnShape: Shape = [geometry.batch, geometry.patchSize, geometry.positions]
        // A kernel over the whole input: the patch is the sample as it lies (no copy).
        var columns =
            geometry.path == .wholeInput
            ? try record.input.reshaped(columnShape) : Tensor.uninitialized(columnShape)
        record.input.withUnsafeBufferPointer { x in
            if geometry.path != .wholeInput {
                columns.withUnsafeMutableBufferPointer { geometry.sampleColumns(x.baseAddress!, into: $0.baseAddress!) }
            }
            if dInput != nil {
                outputGradient.withUnsafeBufferPointer { g in
                    weight.withUnsafeBufferPointer { w in
                        withOptionalMutablePointer(&dInput) { dx in
                            geometry.backward(
                                g: g.baseAddress!, x: x.baseAddress!, weight: w.baseAddress!, dx: dx,
                                dWeight: nil, dBias: nil, weightCache: weightCache)
                        }
                    }
                }
            }
        }
        let delta = try outputGradient.reshaped([geometry.batch, outChannels, geometry.positions])
        let factors = try SampleGradientFactors(
            outputGradient: delta, inputColumns: columns, weightShape: weight.shape, hasBias: bias != nil)
        return PerSampleGradients(input: dInput, factors: [factors])
    }
}

extension Dense: PerSampleGradientLayer {
    public func perSampleVJP(_ record: Record, outputGradient: Tensor, needInputGradient: Bool) throws
        -> PerSampleGradients
    {
        let n = record.input.shape[0]
        try outputGradient.check([n, outputCount], "Dense output gradient")
        var dInput: Tensor?
        if needInputGradient {
            var dx = Tensor.uninitialized(record.input.shape)
            outputGradient.withUnsafeBufferPointer { g in
                weight.withUnsafeBufferPointer { w in
                    dx.withUnsafeMutableBufferPointer {
                        LinearKernels.inputGradient(
                            g: g.baseAddress!, weight: w.baseAddress!, dx: $0.baseAddress!,
                            n: n, inputs: inputCount, outputs: outputCount)
                    }
                }
            }
            dInput = dx
        }
        let factors = try SampleGradientFactors(
            outputGradient: try outputGradient.reshaped([n, outputCount, 1]),
            inputColumns: try record.input.reshaped([n, inputCount, 1]), weightShape: weight.shape,
            hasBias: bias != nil)
        return PerSampleGradients(input: dInput, factors: [factors])
    }
}

extension Sequential: PerSampleGradientLayer {
    public func perSampleVJP(_ record: Record, outputGradient: Tensor, needInputGradient: Bool) throws
        -> PerSampleGradients
    {
        var gradient = outputGradient
        var perChild: [[SampleGradientFactors]] = Array(repeating: [], count: layers.count)
        for i in layers.indices.reversed() {
            let needInput = i > 0 || needInputGradient
            let result = try layers[i].layer.perSampleGradients(
                record.children[i], outputGradient: gradient, needInputGradient: needInput)
            perChild[i] = result.factors
            if needInput { gradient = try layers[i].layer.requireInputGradient(result.input) }
        }
        return PerSampleGradients(input: needInputGradient ? gradient : nil, factors: perChild.flatMap { $0 })
    }
}

extension Residual: PerSampleGradientLayer {
    public func perSampleVJP(_ record: Record, outputGradient: Tensor, needInputGradient: Bool) throws
        -> PerSampleGradients
    {
        let g = try ReLU().vjp(
            record.children.last!, outputGradient: outputGradient, needInputGradient: true,
            mode: .evaluation
        ).input!
        let main = try body.perSampleVJP(record.children[0], outputGradient: g, needInputGradient: needInputGradient)
        var factors = main.factors
        var dx = main.input
        if let shortcut {
            let side = try shortcut.perSampleVJP(
                record.children[1], outputGradient: g, needInputGradient: needInputGradient)
            factors += side.factors
            if let sideInput = side.input { try dx?.add(sideInput) }
        } else if needInputGradient {
            try dx?.add(g)
        }
        return PerSampleGradients(input: dx, factors: factors)
    }
}

extension Layer {
    /// Whether `perSampleGradients` runs on this layer: it has no parameters, or it is a `PerSampleGradientLayer`
    /// (for `Sequential` and `Residual`: whose children all are, or have no parameters).
    public var supportsPerSampleGradients: Bool {
        if parameters.isEmpty { return true }
        if let sequential = self as? Sequential {
            return sequential.layers.allSatisfy { $0.layer.supportsPerSampleGradients }
        }
        if let residual = self as? Residual {
            return residual.body.supportsPerSampleGradients && (residual.shortcut?.supportsPerSampleGradients ?? true)
        }
        return self is any PerSampleGradientLayer
    }
}
