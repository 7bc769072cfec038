import Layers
import Tensor

/// The rows of a linear model's Jacobian `J(x) = ∂F/∂w` with respect to its stored parameters — its features —
/// for a batch, in the form that makes exact linear-model computations cheapest.
public enum JacobianRows: Sendable {
    /// `J(x)[k] = e_k ⊗ φ(x)`: every class reads the same feature row φ(x) through its own block of parameters (a
    /// linear head: `φ = [s_w f(x), s_b]`). `[N, q]`.
    case classSeparable(Tensor)
    /// `J(x)` as `[N, c, p]`, row (n, k) the gradient of logit k of sample n.
    case dense(Tensor)

    /// The values of all rows.
    public var valueCount: Int {
        switch self {
        case let .classSeparable(phi): return phi.count
        case let .dense(j): return j.count
        }
    }

    /// The samples N.
    public var count: Int {
        switch self {
        case let .classSeparable(phi): return phi.shape[0]
        case let .dense(j): return j.shape[0]
        }
    }

    /// The width p of a dense row for `classes` classes: `c·q` for class-separable rows.
    public func width(classes: Int) -> Int {
        switch self {
        case let .classSeparable(phi): return classes * phi.shape[1]
        case let .dense(j): return j.shape[2]
        }
    }

    /// The rows as `[N, c, p]`: class-separable rows become `e_k ⊗ φ` (class k's block at columns `k·q ..< (k+1)·q`).
    public func dense(classes c: Int) -> Tensor {
        switch self {
        case let .dense(j): return j
        case let .classSeparable(phi):
            let (n, q) = (phi.shape[0], phi.shape[1])
            var out = Tensor.zeros([n, c, c * q])
            phi.withUnsafeBufferPointer { f in
                out.withUnsafeMutableBufferPointer { o in
                    for sample in 0..<n {
                        for k in 0..<c {
                            let row = (sample * c + k) * c * q + k * q
                            for i in 0..<q { o[row + i] = f[sample * q + i] }
                        }
                    }
                }
            }
            return out
        }
    }
}

/// A model linear in its stored parameters that hands out its Jacobian's rows, so that leave-one-out influence
/// (`LeaveOneOutAttribution`) can be computed exactly. The activation model and the explicit gradient model conform;
/// the implicit gradient models do not (their rows are |θ2| wide: projected rows are the way there).
public protocol JacobianRowsProvider: LinearInParameters {
    /// `J(x)` for the batch `input`, in evaluation mode; `J(x) w` is the model's logits.
    func jacobianRows(_ input: Tensor) throws -> JacobianRows

    /// The rows and the logits `J(x) w` of the batch; conform when the logits come cheaper from the rows than from
    /// a second forward pass.
    func jacobianRowsAndLogits(_ input: Tensor) throws -> (rows: JacobianRows, logits: Tensor)
}

extension JacobianRowsProvider {
    /// The rows, and the logits from a forward pass.
    public func jacobianRowsAndLogits(_ input: Tensor) throws -> (rows: JacobianRows, logits: Tensor) {
        (try jacobianRows(input), try forward(input, mode: .evaluation).logits)
    }
}

/// A gradient model whose exact rows are |θ2| wide (2.1M for `bigan-cifar`'s conv5): it gives them through a
/// `KroneckerProjection` P of θ2 instead, `P ω̄ᵀJ(x)` (K columns for the gradient term, formed without any |θ2|-wide
/// row). Scores from projected rows approximate the exact ones — the kernel `J H⁻¹ Jᵀ` is replaced by its image
/// under P, as TRAK does (Park et al. 2023) — and become exact for the model trained in P's subspace
/// (`projected-gradient`).
public protocol ProjectableJacobianRows: LinearInParameters {
    /// The linearized top whose parameters θ2 the projection is made for.
    var linearizedTop: LinearizedTop { get }
    /// The rows of the batch with the θ2 part projected by `projection`.
    func projectedJacobianRows(_ input: Tensor, projection: KroneckerProjection) throws -> JacobianRows
}

extension ActivationFeatures: JacobianRowsProvider {
    /// `φ(x) = [s_w f(x), s_b]`: logit k is `φ(x) · (W_k, b_k)` as stored (`s` the parametrization's factors).
    public func jacobianRows(_ input: Tensor) throws -> JacobianRows {
        let f = try features(input)
        let (n, q) = (f.shape[0], f.shape[1])
        let (weightScale, biasScale) = (scales[0], scales[1])
        let phi = Tensor(shape: [n, q + 1]) { out in
            f.withUnsafeBufferPointer { fp in
                for row in 0..<n {
                    for column in 0..<q { out[row * (q + 1) + column] = weightScale * fp[row * q + column] }
                    out[row * (q + 1) + q] = biasScale
                }
            }
        }
        return .classSeparable(phi)
    }
}

extension ExplicitGradientFeatures: JacobianRowsProvider {
    /// `G(x) = ω̄ᵀ J(x)`, the materialised gradient features.
    public func jacobianRows(_ input: Tensor) throws -> JacobianRows { .dense(try gradientFeatures(input)) }

    /// The rows, and the logits `G(x) w2` from them (no second set of backward passes).
    public func jacobianRowsAndLogits(_ input: Tensor) throws -> (rows: JacobianRows, logits: Tensor) {
        let g = try gradientFeatures(input)
        return (.dense(g), try logits(of: g))
    }
}

extension GradientFeatures: ProjectableJacobianRows {
    public var linearizedTop: LinearizedTop { top }

    /// `P ω̄ᵀJ(x)` with respect to w2 as stored (the parametrization's factors in): `[N, c, K]`.
    public func projectedJacobianRows(_ input: Tensor, projection: KroneckerProjection) throws -> JacobianRows {
        let rows = try GradientRows(
            top: top, head: omegaBar, scales: parametrization.scales(for: top.zeroTangent),
            map: .projected(projection))
        return .dense(try rows.jacobianRows(input))
    }
}

extension GradFeatFeatures: ProjectableJacobianRows {
    public var linearizedTop: LinearizedTop { gradient.top }

    /// The activation term's rows `e_k ⊗ φ(x)` (`c·(d+1)` columns) beside the gradient term's `P ω̄ᵀJ(x)` (K):
    /// `[N, c, c·(d+1) + K]`, in the order of the stored parameters (w1, b, then w2).
    public func projectedJacobianRows(_ input: Tensor, projection: KroneckerProjection) throws -> JacobianRows {
        let c = activation.parameters[1].count // the bias: one per class
        let first = try activation.jacobianRows(input).dense(classes: c)
        guard case let .dense(second) = try gradient.projectedJacobianRows(input, projection: projection) else {
            throw GradFeatError.invalidConfiguration("the gradient term's projected rows are not dense")
        }
        let (n, a, b) = (first.shape[0], first.shape[2], second.shape[2])
        var out = Tensor(shape: [n, c, a + b]) { _ in } // both parts of every row are written below
        first.withUnsafeBufferPointer { f in
            second.withUnsafeBufferPointer { g in
                out.withUnsafeMutableBufferPointer { o in
                    for row in 0..<(n * c) {
                        for i in 0..<a { o[row * (a + b) + i] = f[row * a + i] }
                        for i in 0..<b { o[row * (a + b) + a + i] = g[row * b + i] }
                    }
                }
            }
        }
        return .dense(out)
    }
}
