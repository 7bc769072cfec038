import Tensor

/// A layer whose parameter tangent and parameter gradients can carry a per-tensor factor, applied inside its
/// matrix products instead of by scaled copies of the tensors (the NTK parametrization stores `V` and uses `c · V`):
/// ```
/// ẏ = ∂f/∂x · ẋ + ∂f/∂θ · (c ⊙ θ̇),     θ̄ = c ⊙ (∂f/∂θ)ᵀ ȳ
/// ```
/// With every factor 1 these are `apply` and `vjp` exactly. Convolutions and dense layers apply the factors in their
/// products; `Sequential` and `Residual` pass them to their children; other layers get scaled copies
/// (`apply(_:tangent:parameterTangent:scalingTangentBy:mode:)`).
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
    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        try apply(
            input, tangent: tangent, parameterTangent: parameterTangent,
            tangentScales: Array(repeating: 1, count: parameters.count), mode: mode)
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try vjp(
            record, outputGradient: outputGradient, needInputGradient: needInputGradient,
            gradientScales: Array(repeating: 1, count: parameters.count), mode: mode)
    }
}

extension Layer {
    /// `apply` with the parameter tangent multiplied by `tangentScales` (nil: by 1): inside the products of a
    /// `ScaledParameterLayer`, by scaled copies of the tangent for other layers.
    public func apply(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, scalingTangentBy tangentScales: [Float]?,
        mode: Mode
    ) throws -> LayerOutput {
        guard let tangentScales, let parameterTangent else {
            return try apply(input, tangent: tangent, parameterTangent: parameterTangent, mode: mode)
        }
        if let scaled = self as? any ScaledParameterLayer {
            return try scaled.apply(
                input, tangent: tangent, parameterTangent: parameterTangent, tangentScales: tangentScales, mode: mode)
        }
        try checkScaleCount(tangentScales)
        return try apply(
            input, tangent: tangent, parameterTangent: parameterTangent.scaled(by: tangentScales), mode: mode)
    }

    /// `vjp` with the parameter gradients multiplied by `gradientScales` (nil: by 1): inside the products of a
    /// `ScaledParameterLayer`, by scaling the gradients afterwards for other layers.
    public func vjp(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool, scalingGradientsBy gradientScales: [Float]?,
        mode: Mode
    ) throws -> Gradients {
        guard let gradientScales else {
            return try vjp(record, outputGradient: outputGradient, needInputGradient: needInputGradient, mode: mode)
        }
        if let scaled = self as? any ScaledParameterLayer {
            return try scaled.vjp(
                record, outputGradient: outputGradient, needInputGradient: needInputGradient,
                gradientScales: gradientScales, mode: mode)
        }
        try checkScaleCount(gradientScales)
        let result = try vjp(record, outputGradient: outputGradient, needInputGradient: needInputGradient, mode: mode)
        return Gradients(input: result.input, parameters: result.parameters.scaled(by: gradientScales))
    }

    /// Throws unless `scales` holds one factor per parameter (the message names the layer's type).
    public func checkScaleCount(_ scales: [Float]) throws {
        guard scales.count == parameters.count else {
            throw TensorError.invalidArgument(
                "\(type(of: self)): \(scales.count) parameter scales given, expected one per parameter (\(parameters.count))"
            )
        }
    }
}

extension Array where Element == Tensor {
    /// Each tensor multiplied by its factor (stored → effective values, or effective → stored gradients).
    public func scaled(by factors: [Float]) -> [Tensor] {
        zip(self, factors).map { tensor, factor in factor == 1 ? tensor : factor * tensor }
    }

    /// Each tensor divided by its factor (effective → stored values).
    public func unscaled(by factors: [Float]) -> [Tensor] { scaled(by: factors.map { 1 / $0 }) }
}

extension Tensor {
    /// A tensor whose every element the caller overwrites (no zero fill).
    static func uninitialized(_ shape: Shape) -> Tensor { Tensor(shape: shape) { _ in } }
}
