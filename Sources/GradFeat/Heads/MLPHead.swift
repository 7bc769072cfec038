import Layers
import Tensor

/// A two-layer perceptron head, `h(f) = W2 relu(W1 f + b1) + b2`: the second `Head` conformance, for gradient
/// models around a non-linear ω̄. Its Jacobian in `f` depends on the point:
/// ```
/// ∂h/∂f (f) · ḟ = W2 (𝟙[W1 f + b1 > 0] ⊙ W1 ḟ)
/// ```
/// Forward, JVP and VJP are those of its layers (`fc1`, `relu`, `fc2`), each checked against finite differences.
public struct MLPHead: Head {
    public var layers: Sequential
    public let featureCount: Int
    public let hiddenCount: Int
    public let classCount: Int

    /// A head of `hidden` units initialised as two `nn.Linear` layers under `rng`.
    public init(features: Int, hidden: Int, classes: Int, rng: inout SeededRandom) {
        layers = Sequential([
            NamedLayer("fc1", Dense(inputs: features, outputs: hidden, rng: &rng)),
            NamedLayer("relu", ReLU()),
            NamedLayer("fc2", Dense(inputs: hidden, outputs: classes, rng: &rng)),
        ])
        (featureCount, hiddenCount, classCount) = (features, hidden, classes)
    }

    public var parameters: [Tensor] {
        get { layers.parameters }
        set { layers.parameters = newValue }
    }
    public var parameterNames: [String] { layers.parameterNames }

    public func logits(_ features: Tensor) throws -> Tensor {
        try checkFeatures(features)
        return try layers.forward(features)
    }

    public func jvp(at features: Tensor, tangent: Tensor) throws -> Tensor {
        try checkFeatures(features)
        try tangent.check(features.shape, "MLP head tangent")
        return try layers.jvp(features, tangent: tangent).tangent
    }

    public func vjp(at features: Tensor, cotangent: Tensor) throws -> (features: Tensor, parameters: [Tensor]) {
        try checkFeatures(features)
        try cotangent.check([features.shape[0], classCount], "MLP head cotangent")
        let gradients = try layers.vjp(features, outputGradient: cotangent).gradients
        guard let input = gradients.input else {
            throw GradFeatError.invalidConfiguration("MLP head: its layers returned no input gradient")
        }
        return (input, gradients.parameters)
    }
}
