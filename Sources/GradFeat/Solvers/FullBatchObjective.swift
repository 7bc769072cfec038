import Layers
import Tensor

/// The training objective over the whole training set, in fixed chunks (the data may be streamed):
/// ```
/// L(w) = Σ_b n_b ℓ(F_w(x_b), y_b) / Σ_b n_b + (λ/2) ‖w‖²
/// ```
/// with `n_b` the terms chunk `b`'s loss averages over (samples; counted pairs for binary cross-entropy), and,
/// for a quadratic loss and a model affine in `w`, the Gauss–Newton operator — the objective's exact Hessian:
/// ```
/// A v = (1/N) Jᵀ C J v + λ v        (C the loss's curvature, N the samples)
/// ```
/// each from one pass over the data: forward and backward, or tangent and backward. No gradient feature is ever
/// formed. Passes run in evaluation mode, so the objective is deterministic.
public struct FullBatchObjective: Sendable {
    public var data: any BatchSource
    public var loss: any Loss
    /// λ, the weight decay on the stored parameters.
    public var weightDecay: Double
    /// Samples per chunk of a pass (it changes only the order of the Float32 sums).
    public var chunkSize: Int

    public init(data: any BatchSource, loss: any Loss, weightDecay: Double, chunkSize: Int = 256) {
        self.data = data
        self.loss = loss
        self.weightDecay = weightDecay
        self.chunkSize = max(1, chunkSize)
    }

    private var chunks: [Range<Int>] {
        stride(from: 0, to: data.count, by: chunkSize).map { $0..<min($0 + chunkSize, data.count) }
    }

    /// `L(w)` and `∇L(w)`: one forward and one backward pass of `extractor` at `w`.
    public func valueAndGradient<Extractor: FeatureExtractor>(
        _ extractor: Extractor, at w: ParameterVector
    ) throws -> (value: Double, gradient: ParameterVector) {
        var model = extractor
        model.parameters = w.tensors
        var gradient = ParameterVector.zeros(like: model.parameters)
        var total = 0.0, terms = 0.0
        for chunk in chunks {
            let (inputs, targets) = try data.batch(Array(chunk))
            let output = try model.forward(inputs, mode: .evaluation)
            let evaluated = try loss.evaluate(logits: output.logits, targets: targets)
            let weight = loss.normalizer(for: targets, shape: output.logits.shape)
            total += weight * evaluated.loss
            terms += weight
            try gradient.accumulate(
                try model.parameterGradients(output, logitsGradient: evaluated.gradient),
                scaledBy: weight)
        }
        let scale = 1 / max(terms, 1)
        gradient.scale(by: scale)
        gradient.add(w, scaledBy: weightDecay)
        let value = total * scale + 0.5 * weightDecay * w.squaredNorm
        guard value.isFinite, gradient.isFinite else {
            throw TensorError.nonFinite(what: "the objective or its gradient over the training set")
        }
        return (value, gradient)
    }

    /// `L(w)` at the extractor's own parameters (one forward and backward pass).
    public func value(of extractor: any FeatureExtractor) throws -> Double {
        func value<Extractor: FeatureExtractor>(_ model: Extractor) throws -> Double {
            try valueAndGradient(model, at: ParameterVector(model.parameters)).value
        }
        return try value(extractor)
    }

    /// `A v = (1/N) Jᵀ C J v + λ v`: one tangent (JVP) and one backward (VJP) pass of `extractor`.
    public func gaussNewtonProduct<Extractor: AffineInParameters>(
        _ extractor: Extractor, _ v: ParameterVector
    ) throws -> ParameterVector {
        guard let quadratic = loss as? any QuadraticLoss else {
            throw GradFeatError.invalidConfiguration(
                "the Gauss–Newton operator needs a loss quadratic in the logits (--loss mse)")
        }
        let direction = v.tensors
        var product = ParameterVector.zeros(like: direction)
        var samples = 0.0
        for chunk in chunks {
            let (inputs, targets) = try data.batch(Array(chunk))
            var output = try extractor.directionalForward(inputs, direction: direction)
            let curvature = try quadratic.curvature(for: targets, shape: output.logits.shape)
            output.logits.withUnsafeMutableBufferPointer { z in
                for i in 0..<z.count { z[i] *= curvature[i] }
            }
            try product.accumulate(try extractor.parameterGradients(output, logitsGradient: output.logits))
            samples += Double(chunk.count)
        }
        product.scale(by: 1 / max(samples, 1))
        product.add(v, scaledBy: weightDecay)
        guard product.isFinite else { throw TensorError.nonFinite(what: "the Gauss–Newton product") }
        return product
    }

    /// Hutchinson's estimate of the operator's diagonal, `(1/K) Σ_k v_k ⊙ A v_k` for Rademacher `v_k` drawn
    /// from `seed`, floored at λ (the true diagonal is at least λ): K operator passes.
    public func diagonalEstimate<Extractor: AffineInParameters>(
        _ extractor: Extractor, like template: ParameterVector, probes: Int, seed: UInt64,
        progress: (Int) -> Void = { _ in }
    ) throws -> ParameterVector {
        var rng = SeededRandom(seed: seed ^ 0x4A_C0B1)
        var sum = ParameterVector(values: [Double](repeating: 0, count: template.count), shapes: template.shapes)
        for probe in 0..<probes {
            var v = sum
            for i in v.values.indices { v.values[i] = rng.next() & 1 == 0 ? 1 : -1 }
            sum.add(v.multiplied(by: try gaussNewtonProduct(extractor, v)))
            progress(probe + 1)
        }
        sum.scale(by: 1 / Double(max(probes, 1)))
        let floor = max(weightDecay, 1e-12)
        for i in sum.values.indices { sum.values[i] = max(sum.values[i], floor) }
        return sum
    }
}
