import Layers
import Tensor

/// A head: the map from features `f` [N, d] to logits [N, c], with the two products the gradient model needs.
///
/// The paper's ω is linear (`LinearHead`); any differentiable map can be a head. The gradient term of a head `h`
/// around a trained ω̄ is its Jacobian–vector product applied to the feature tangent `ḟ = J(x) w2`:
/// ```
/// gradient term = ∂h/∂f (f) · ḟ          (= ω̄ ḟ for the linear head)
/// ∂L/∂ḟ         = (∂h/∂f (f))ᵀ g         (= g ω̄)
/// ```
/// and training backpropagates `∂L/∂ḟ` through the tangent chain (`LinearizedTop`). Register a head with
/// `Plugins.shared.heads`; check one with `GradFeatTesting`'s `HeadConformance`.
public protocol Head: Sendable {
    /// The width d of the features it reads.
    var featureCount: Int { get }
    /// The number of classes c it scores.
    var classCount: Int { get }
    /// Its trainable tensors, in a fixed order, named by `parameterNames`.
    var parameters: [Tensor] { get set }
    var parameterNames: [String] { get }

    /// The logits `h(f)` for features [N, d].
    func logits(_ features: Tensor) throws -> Tensor

    /// `∂h/∂f (f) · ḟ`: the change of the logits along the feature tangent `ḟ` [N, d], at `features`.
    func jvp(at features: Tensor, tangent: Tensor) throws -> Tensor

    /// The adjoint at `features` for the logits' cotangent `g` [N, c]: `∂L/∂f` and `∂L/∂parameters`.
    func vjp(at features: Tensor, cotangent: Tensor) throws -> (features: Tensor, parameters: [Tensor])
}

extension Head {
    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// `∂L/∂f = (∂h/∂f (f))ᵀ g` for the logits' cotangent `g` [N, c]: `g ω̄` directly for the linear head
    /// (skipping the parameter gradient its `vjp` would also compute).
    public func featureGradient(at features: Tensor, logitsGradient g: Tensor) throws -> Tensor {
        if let linear = self as? LinearHead { return featureCotangent(g, headWeight: linear.weight) }
        return try vjp(at: features, cotangent: g).features
    }

    /// Throws a shape error naming the head when `features` is not [N, featureCount].
    public func checkFeatures(_ features: Tensor, _ what: String = "head features") throws {
        guard features.shape.rank == 2, features.shape[1] == featureCount else {
            throw TensorError.shapeMismatch(
                operation: what, expected: [features.shape.rank > 0 ? features.shape[0] : 1, featureCount],
                got: features.shape)
        }
    }
}
