import Tensor

/// Batch normalisation over the channels of an NCHW batch, with PyTorch's parameters
/// (`weight` γ, `bias` β) and buffers (`running_mean`, `running_var`; momentum 0.1, ε = 1e-5).
///
/// Training mode normalises with the batch statistics; evaluation mode with the running ones, which makes it an
/// affine map that `folded(into:)` merges into the preceding convolution:
/// ```
/// y = γ (x − μ) / √(σ² + ε) + β
/// ```
public struct BatchNorm2D: Layer {
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVariance: Tensor
    public let momentum: Float
    public let epsilon: Float

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        weight = Tensor(repeating: 1, shape: [channels])
        bias = .zeros([channels])
        runningMean = .zeros([channels])
        runningVariance = Tensor(repeating: 1, shape: [channels])
        self.momentum = momentum
        self.epsilon = epsilon
    }

    public var channels: Int { weight.count }

    public var parameters: [Tensor] {
        get { [weight, bias] }
        set { (weight, bias) = (newValue[0], newValue[1]) }
    }
    public var parameterNames: [String] { ["weight", "bias"] }
    public var buffers: [Tensor] {
        get { [runningMean, runningVariance] }
        set { (runningMean, runningVariance) = (newValue[0], newValue[1]) }
    }
    public var bufferNames: [String] { ["running_mean", "running_var"] }

    public func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 4, input[1] == channels else {
            throw TensorError.shapeMismatch(
                operation: "BatchNorm2D input",
                expected: [
                    input.rank > 0 ? input[0] : 1, channels, input.rank == 4 ? input[2] : 1,
                    input.rank == 4 ? input[3] : 1,
                ], got: input)
        }
        return input
    }

    /// Per-channel statistics: the mean and the inverse standard deviation used to normalise.
    private func statistics(of x: Tensor, mode: Mode) -> (mean: [Float], inverseStd: [Float], variance: [Float]) {
        guard mode.isTraining else {
            let inv = runningVariance.scalars.map { 1 / ($0 + epsilon).squareRoot() }
            return (runningMean.scalars, inv, runningVariance.scalars)
        }
        let (batch, plane) = (x.shape[0], x.shape[2] * x.shape[3])
        let count = Double(batch * plane)
        var mean = [Float](repeating: 0, count: channels), variance = mean
        x.withUnsafeBufferPointer { x in
            for c in 0..<channels {
                var s = 0.0, s2 = 0.0
                for n in 0..<batch {
                    let base = (n * channels + c) * plane
                    for i in 0..<plane {
                        let v = Double(x[base + i])
                        s += v
                        s2 += v * v
                    }
                }
                let m = s / count
                mean[c] = Float(m)
                variance[c] = Float(max(0, s2 / count - m * m))
            }
        }
        return (mean, variance.map { 1 / ($0 + epsilon).squareRoot() }, variance)
    }

    /// `out[n, c, i] = f(c, x[n, c, i])` over an NCHW tensor.
    private func mapChannels(_ x: Tensor, _ f: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
        -> Tensor
    {
        let (batch, plane) = (x.shape[0], x.shape[2] * x.shape[3])
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { x in
                for n in 0..<batch {
                    for c in 0..<channels {
                        let base = (n * channels + c) * plane
                        f(c, x.baseAddress! + base, out.baseAddress! + base, plane)
                    }
                }
            }
        }
    }

    /// Per-channel sums of `a` and of `a ⊙ b`.
    private func channelSums(_ a: Tensor, _ b: Tensor) -> (sum: [Float], dot: [Float]) {
        let (batch, plane) = (a.shape[0], a.shape[2] * a.shape[3])
        var sum = [Float](repeating: 0, count: channels), dot = sum
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                for n in 0..<batch {
                    for c in 0..<channels {
                        let base = (n * channels + c) * plane
                        var s: Float = 0, d: Float = 0
                        for i in 0..<plane {
                            s += a[base + i]
                            d += a[base + i] * b[base + i]
                        }
                        sum[c] += s
                        dot[c] += d
                    }
                }
            }
        }
        return (sum, dot)
    }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        _ = try outputShape(for: input.shape)
        if let tangent { try tangent.check(input.shape, "BatchNorm2D tangent") }
        try checkParameterTangent(parameterTangent, "BatchNorm2D")
        let (mean, inverseStd, variance) = statistics(of: input, mode: mode)
        let normalized = mapChannels(input) { c, x, out, n in
            let (m, s) = (mean[c], inverseStd[c])
            for i in 0..<n { out[i] = (x[i] - m) * s }
        }
        let (gamma, beta) = (weight.scalars, bias.scalars)
        let value = mapChannels(normalized) { c, xh, out, n in
            for i in 0..<n { out[i] = gamma[c] * xh[i] + beta[c] }
        }
        var outputTangent = tangent.map {
            inputJacobianProduct($0, normalized: normalized, inverseStd: inverseStd, mode: mode)
        }
        if let parameterTangent {
            let (dGamma, dBeta) = (parameterTangent[0].scalars, parameterTangent[1].scalars)
            let parameterPart = mapChannels(normalized) { c, xh, out, n in
                for i in 0..<n { out[i] = dGamma[c] * xh[i] + dBeta[c] }
            }
            if outputTangent == nil { outputTangent = parameterPart } else { try outputTangent!.add(parameterPart) }
        }
        let saved = [
            normalized, Tensor(vector: inverseStd),
            Tensor(vector: mean),
            Tensor(vector: variance),
        ]
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input, saved: saved))
    }

    public func vjp(_ record: Record, outputGradient g: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients
    {
        try g.check(record.input.shape, "BatchNorm2D output gradient")
        let (normalized, inverseStd) = (record.saved[0], record.saved[1].scalars)
        let (sum, dot) = channelSums(g, normalized)
        let parameterGradients = [
            Tensor(vector: dot),
            Tensor(vector: sum),
        ]
        guard needInputGradient else { return Gradients(input: nil, parameters: parameterGradients) }
        // The Jacobian with respect to the input is symmetric, so the VJP applies the same map as the JVP.
        let dx = inputJacobianProduct(g, normalized: normalized, inverseStd: inverseStd, mode: mode)
        return Gradients(input: dx, parameters: parameterGradients)
    }

    /// `(∂y/∂x) v` for a tangent or a cotangent `v` (the input Jacobian is symmetric):
    /// ```
    /// training:    γ s (v − mean(v) − x̂ · mean(v ⊙ x̂))        evaluation:  γ s v
    /// ```
    private func inputJacobianProduct(_ v: Tensor, normalized: Tensor, inverseStd: [Float], mode: Mode) -> Tensor {
        let gamma = weight.scalars
        guard mode.isTraining else {
            return mapChannels(v) { c, vp, out, n in
                let k = gamma[c] * inverseStd[c]
                for i in 0..<n { out[i] = k * vp[i] }
            }
        }
        let (sum, dot) = channelSums(v, normalized)
        let count = Float(v.count / channels)
        let xh = normalized.scalars
        var offset = 0
        return mapChannels(v) { c, vp, out, n in
            let (a, b, k) = (sum[c] / count, dot[c] / count, gamma[c] * inverseStd[c])
            let base = offset
            for i in 0..<n { out[i] = k * (vp[i] - a - xh[base + i] * b) }
            offset += n
        }
    }

    /// Moves the running statistics toward the batch's: `r ← (1 − m) r + m · batch` (unbiased variance, as PyTorch).
    public mutating func updateStatistics(from record: Record) {
        guard record.saved.count == 4 else { return }
        let count = Float(record.input.count / channels)
        let correction = count > 1 ? count / (count - 1) : 1
        let (mean, variance) = (record.saved[2].scalars, record.saved[3].scalars)
        let m = momentum
        runningMean.withUnsafeMutableBufferPointer { r in
            for c in 0..<r.count { r[c] = (1 - m) * r[c] + m * mean[c] }
        }
        runningVariance.withUnsafeMutableBufferPointer { r in
            for c in 0..<r.count { r[c] = (1 - m) * r[c] + m * variance[c] * correction }
        }
    }

    /// The convolution that computes `BN(conv(x))` in evaluation mode in one pass:
    /// ```
    /// W' = W · γ/√(σ² + ε),   b' = (b − μ) · γ/√(σ² + ε) + β
    /// ```
    public func folded(into conv: Conv2D) throws -> Conv2D {
        guard conv.outChannels == channels else {
            throw TensorError.shapeMismatch(
                operation: "fold BatchNorm2D into Conv2D", expected: [channels], got: [conv.outChannels])
        }
        let scale = zip(weight.scalars, runningVariance.scalars).map { $0 / ($1 + epsilon).squareRoot() }
        let perOutput = conv.weight.count / channels
        var newWeight = conv.weight
        newWeight.withUnsafeMutableBufferPointer { w in
            for o in 0..<channels {
                for i in 0..<perOutput { w[o * perOutput + i] *= scale[o] }
            }
        }
        let oldBias = conv.bias?.scalars ?? [Float](repeating: 0, count: channels)
        let newBias = Tensor(shape: [channels]) { b in
            for o in 0..<channels { b[o] = (oldBias[o] - runningMean.scalars[o]) * scale[o] + bias.scalars[o] }
        }
        return try Conv2D(weight: newWeight, bias: newBias, stride: conv.stride, padding: conv.padding)
    }
}
