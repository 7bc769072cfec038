import Layers
import Tensor

/// The linear head ω of a network, `F(x) = ωᵀ f(x) + b`: weight [c, d] and bias [c], as PyTorch's `fc` layer.
///
/// The head holds the *effective* values; trainers that use the NTK parametrization store `ω / c` and scale back
/// (see `Parametrization`).
public struct Head: Sendable {
    public var layer: Dense

    public init(_ layer: Dense) { self.layer = layer }

    /// A fresh head initialised as `nn.Linear`.
    public init(features: Int, classes: Int, rng: inout SeededRandom) {
        layer = Dense(inputs: features, outputs: classes, rng: &rng)
    }

    /// A head of zeros (the gradient baseline's `w2` starts at 0; a zero head is the "no activation term" case).
    public static func zeros(features: Int, classes: Int) -> Head {
        var rng = SeededRandom(seed: 0)
        var layer = Dense(inputs: features, outputs: classes, rng: &rng)
        layer.parameters = layer.parameters.map { .zeros(like: $0) }
        return Head(layer)
    }

    public var weight: Tensor { layer.weight }
    public var bias: Tensor { layer.bias ?? .zeros([classCount]) }
    public var featureCount: Int { layer.inputCount }
    public var classCount: Int { layer.outputCount }

    /// `f ωᵀ + b` for features [N, d].
    public func logits(_ features: Tensor) throws -> Tensor { try layer.forward(features) }

    /// `f ωᵀ` without the bias: the head applied to a tangent (the gradient term `ω̄ᵀ ḟ`).
    public func linearPart(_ features: Tensor) throws -> Tensor {
        var noBias = layer
        noBias.bias = nil
        return try noBias.forward(features)
    }
}
