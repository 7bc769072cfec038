import Tensor

/// A layer whose parameter tangent and parameter gradients can carry a per-tensor factor, applied inside its
/// matrix products instead of by scaled copies of the tensors (the NTK parametrization stores `V` and uses `c · V`):
/// ```
/// ẏ = ∂f/∂x · ẋ + ∂f/∂θ · (c ⊙ θ̇),     θ̄ = c ⊙ (∂f/∂θ)ᵀ ȳ
/// ```
/// With every factor 1 these are `apply` and `vjp` exactly. `LinearizedTop` uses them for convolutions and dense
/// layers and falls back to scaled copies for other layers.
public protocol ScaledParameterLayer: Layer {
    /// `apply` with the parameter tangent multiplied by `tangentScales` (one factor per parameter).
    func apply(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, tangentScales: [Float], mode: Mode
    ) throws -> LayerOutput

    /// `vjp` with the parameter gradients multiplied by `gradientScales` (one factor per parameter).
    func vjp(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool, gradientScales: [Float], mode: Mode
    ) throws -> Gradients
}

extension ScaledParameterLayer {
    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput {
        try apply(input, tangent: tangent, parameterTangent: parameterTangent,
                  tangentScales: Array(repeating: 1, count: parameters.count), mode: mode)
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try vjp(record, outputGradient: outputGradient, needInputGradient: needInputGradient,
                gradientScales: Array(repeating: 1, count: parameters.count), mode: mode)
    }
}

extension Tensor {
    /// A tensor whose every element the caller overwrites (no zero fill).
    static func uninitialized(_ shape: Shape) -> Tensor { Tensor(shape: shape) { _ in } }
}
