import Tensor

/// A parameter-free layer that is a fixed linear map `y = A x` (average pooling, flattening).
///
/// Its tangent is the same map, `ẏ = A ẋ`, and its gradient is the adjoint `x̄ = Aᵀ ȳ`; conformances supply only
/// `applyLinear` and `applyAdjoint`.
public protocol LinearOperator: Layer {
    func applyLinear(_ x: Tensor) throws -> Tensor
    func applyAdjoint(_ g: Tensor, inputShape: Shape) throws -> Tensor
}

extension LinearOperator {
    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        if let tangent { try tangent.check(input.shape, "\(Self.self) tangent") }
        return LayerOutput(
            value: try applyLinear(input), tangent: try tangent.map(applyLinear), record: Record(input: input))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(try outputShape(for: record.input.shape), "\(Self.self) output gradient")
        return Gradients(
            input: needInputGradient ? try applyAdjoint(outputGradient, inputShape: record.input.shape) : nil,
            parameters: [])
    }
}
