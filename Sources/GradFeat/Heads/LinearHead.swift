import Layers
import Tensor

/// The paper's linear head ω of a network, `F(x) = ωᵀ f(x) + b`: weight [c, d] and bias [c], as PyTorch's `fc`
/// layer. Its Jacobian in `f` is ω itself, so the gradient term is `ω̄ᵀ ḟ`.
///
/// The head holds the *effective* values; trainers that use the NTK parametrization store `ω / c` and scale back
/// (see `Parametrization`).
public struct LinearHead: Head {
    public var layer: Dense

    public init(_ layer: Dense) { self.layer = layer }

    /// A fresh head initialised as `nn.Linear`.
    public init(features: Int, classes: Int, rng: inout SeededRandom) {
        layer = Dense(inputs: features, outputs: classes, rng: &rng)
    }

    /// A head of zeros (the gradient baseline's `w2` starts at 0; a zero head is the "no activation term" case).
    public static func zeros(features: Int, classes: Int) -> LinearHead {
        var rng = SeededRandom(seed: 0)
        var layer = Dense(inputs: features, outputs: classes, rng: &rng)
        layer.parameters = layer.parameters.map { .zeros(like: $0) }
        return LinearHead(layer)
    }

    public var weight: Tensor { layer.weight }
    public var bias: Tensor { layer.bias ?? .zeros([classCount]) }
    public var featureCount: Int { layer.inputCount }
    public var classCount: Int { layer.outputCount }
    public var parameters: [Tensor] {
        get { layer.parameters }
        set { layer.parameters = newValue }
    }
    public var parameterNames: [String] { layer.parameterNames }

    /// `f ωᵀ + b` for features [N, d].
    public func logits(_ features: Tensor) throws -> Tensor { try layer.forward(features) }

    /// `f ωᵀ` without the bias: the head applied to a tangent (the gradient term `ω̄ᵀ ḟ`).
    public func linearPart(_ features: Tensor) throws -> Tensor {
        var noBias = layer
        noBias.bias = nil
        return try noBias.forward(features)
    }

    /// `ḟ ωᵀ`, whatever the point: the head is linear.
    public func jvp(at features: Tensor, tangent: Tensor) throws -> Tensor {
        try checkFeatures(tangent, "linear head tangent")
        return try linearPart(tangent)
    }

    /// `(g ω, [gᵀ f, Σ g])`.
    public func vjp(at features: Tensor, cotangent: Tensor) throws -> (features: Tensor, parameters: [Tensor]) {
        try checkFeatures(features)
        try cotangent.check([features.shape[0], classCount], "linear head cotangent")
        return (
            featureCotangent(cotangent, headWeight: weight),
            try linearHeadGradients(features: features, logitsGradient: cotangent)
        )
    }
}
