import Layers
import Tensor

/// The gradient model with its features materialised: for each sample the matrix `G(x) = ω̄ᵀ J(x)` [c, |θ2|],
/// and logits `G(x) w2`.
///
/// Costs c backward passes of each batch and memory c·|θ2| per sample, so it suits small θ2: for checking the
/// implicit models, and for researchers who want the raw gradient features (kernels, SVMs, `gradfeat extract`).
public struct ExplicitGradientFeatures: FeatureExtractor {
    public var top: LinearizedTop
    public var omegaBar: LinearHead
    /// w2 flattened, in effective values.
    public var weights: Tensor

    public init(top: LinearizedTop, omegaBar: LinearHead) {
        self.top = top
        self.omegaBar = omegaBar
        self.weights = .zeros([top.parameters.reduce(0) { $0 + $1.count }])
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
        guard top.supportsPerSampleGradients else { return try gradientFeaturesOnePassPerSample(input) }
        return try GradientRows(top: top, head: omegaBar).jacobianRows(input)
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
                result.scalars.replaceSubrange(((sample * c + k) * p)..<((sample * c + k + 1) * p),
                                               with: gradient.flatMap(\.scalars))
            }
        }
        return result
    }

    /// The gradient features `G(x)` as rows [N·c, |θ2|].
    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
        let g = try gradientFeatures(input)
        let (n, c, p) = (g.shape[0], g.shape[1], g.shape[2])
        var logits = Tensor.zeros([n, c])
        g.withUnsafeBufferPointer { gp in
            weights.withUnsafeBufferPointer { wp in
                logits.withUnsafeMutableBufferPointer { lp in
                    BLAS.gemm(m: n * c, n: 1, k: p, a: gp.baseAddress!, lda: p, b: wp.baseAddress!, ldb: 1,
                              c: lp.baseAddress!, ldc: 1)
                }
            }
        }
        return ExtractorOutput(logits: logits, pass: try g.reshaped([n * c, p]), mode: mode, gradientTerm: logits)
    }

    public func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
        let g = output.pass
        var dw = Tensor.zeros([featureCount])
        g.withUnsafeBufferPointer { gp in
            logitsGradient.withUnsafeBufferPointer { lp in
                dw.withUnsafeMutableBufferPointer { dp in
                    BLAS.gemm(transposeA: true, m: featureCount, n: 1, k: g.shape[0], a: gp.baseAddress!,
                              lda: featureCount, b: lp.baseAddress!, ldb: 1, c: dp.baseAddress!, ldc: 1)
                }
            }
        }
        return [dw]
    }
}
