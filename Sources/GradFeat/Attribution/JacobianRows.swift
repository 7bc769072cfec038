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
}

/// A model linear in its stored parameters that hands out its Jacobian's rows, so that leave-one-out influence
/// (`LeaveOneOutAttribution`) can be computed exactly. The activation model and the explicit gradient model conform;
/// the implicit gradient models do not (their rows are |θ2| wide: projected rows are the way there).
public protocol JacobianRowsProvider: LinearInParameters {
    /// `J(x)` for the batch `input`, in evaluation mode; `J(x) w` is the model's logits.
    func jacobianRows(_ input: Tensor) throws -> JacobianRows
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
}
