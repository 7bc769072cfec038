import Layers
import Tensor

/// The gradient model with its features materialised: for each sample the matrix `G(x) = ω̄ᵀ J(x)` [c, |θ2|],
/// and logits `G(x) w2`; or, with a projected `rowMap`, the gradient model in a random K-dimensional subspace of θ2,
/// ```
/// F(x) = ω̄ᵀ J(x) Pᵀ v = (P G(x)ᵀ)ᵀ v,     w2 = Pᵀ v,   v ∈ R^K
/// ```
/// whose features are the projected rows `P G(x)` (`KroneckerProjection`), so its K parameters can be solved
/// exactly and attributed exactly however large θ2 is (`projected-gradient`).
///
/// Costs c backward passes of each batch and memory c·D per sample (D = |θ2|, or K), so unprojected it suits
/// small θ2: for checking the implicit models, and for researchers who want the raw gradient features.
public struct ExplicitGradientFeatures: FeatureExtractor {
    public var top: LinearizedTop
    public var omegaBar: LinearHead
    /// How a sample's gradients become its feature rows: all of θ2, or projected.
    public let rowMap: GradientRowMap
    /// w2 flattened (or v, for a projected row map), in effective values.
    public var weights: Tensor

    public init(top: LinearizedTop, omegaBar: LinearHead, rowMap: GradientRowMap = .exact) {
        self.top = top
        self.omegaBar = omegaBar
        self.rowMap = rowMap
        switch rowMap {
        case .exact: self.weights = .zeros([top.parameters.reduce(0) { $0 + $1.count }])
        case let .projected(projection): self.weights = .zeros([projection.dimension])
        }
    }

    public var namedParameters: NamedParameters {
        get { NamedParameters([("w2", weights)]) }
        set { weights = newValue.tensors[0] }
    }
    public var featureCount: Int { weights.count }

    /// `G(x)` for a batch: [N, c, |θ2|], row (n, k) the gradient of `(ω̄ᵀ f(x_n))_k` with respect to θ2, from one
    /// forward pass and c backward passes of the batch (`GradientRows`); for a top with a linearized layer that is
    /// no `PerSampleGradientLayer`, one backward pass per sample and class.
    public func gradientFeatures(_ input: Tensor) throws -> Tensor {
        guard top.supportsPerSampleGradients else {
            guard case .exact = rowMap else {
                throw GradFeatError.invalidConfiguration(
                    "projected gradient features need every linearized layer to give per-sample gradients "
                        + "(PerSampleGradientLayer): linearize conv or dense layers")
            }
            return try gradientFeaturesOnePassPerSample(input)
        }
        return try GradientRows(top: top, head: omegaBar, map: rowMap).jacobianRows(input)
    }

    /// `G(x)` by one backward pass per sample and class: slow, but any layer's ordinary `vjp` will do.
    public func gradientFeaturesOnePassPerSample(_ input: Tensor) throws -> Tensor {
        let (n, c, p) = (input.shape[0], omegaBar.classCount, featureCount)
        var result = Tensor.zeros([n, c, p])
        for sample in 0..<n {
            let pass = try top.apply(input.rows(sample..<(sample + 1)), parameterTangent: nil)
            for k in 0..<c {
                var onehot = Tensor.zeros([1, c])
                onehot.scalars[k] = 1
                let gradient = try top.parameterGradients(
                    pass.record, cotangent: featureCotangent(onehot, headWeight: omegaBar.weight))
                result.scalars.replaceSubrange(
                    ((sample * c + k) * p)..<((sample * c + k + 1) * p),
                    with: gradient.flatMap(\.scalars))
            }
        }
        return result
    }

    /// The gradient features `G(x)` as rows [N·c, |θ2|].
    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
        let g = try gradientFeatures(input)
        let logits = try logits(of: g)
        return ExtractorOutput(
            logits: logits, pass: try g.reshaped([g.shape[0] * g.shape[1], g.shape[2]]),
            mode: mode, gradientTerm: logits)
    }

    /// `G w2` for features `G` [N, c, D]: the logits [N, c].
    func logits(of g: Tensor) throws -> Tensor {
        let (n, c, p) = (g.shape[0], g.shape[1], g.shape[2])
        guard p == weights.count else {
            throw TensorError.shapeMismatch(
                operation: "gradient features", expected: [n, c, weights.count], got: g.shape)
        }
        var logits = Tensor.zeros([n, c])
        guard n > 0 else { return logits }
        g.withUnsafeBufferPointer { gp in
            weights.withUnsafeBufferPointer { wp in
                logits.withUnsafeMutableBufferPointer { lp in
                    BLAS.gemm(
                        m: n * c, n: 1, k: p, a: gp.baseAddress!, lda: p, b: wp.baseAddress!, ldb: 1,
                        c: lp.baseAddress!, ldc: 1)
                }
            }
        }
        return logits
    }

    public func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
        let g = output.pass
        var dw = Tensor.zeros([featureCount])
        g.withUnsafeBufferPointer { gp in
            logitsGradient.withUnsafeBufferPointer { lp in
                dw.withUnsafeMutableBufferPointer { dp in
                    BLAS.gemm(
                        transposeA: true, m: featureCount, n: 1, k: g.shape[0], a: gp.baseAddress!,
                        lda: featureCount, b: lp.baseAddress!, ldb: 1, c: dp.baseAddress!, ldc: 1)
                }
            }
        }
        return [dw]
    }
}
