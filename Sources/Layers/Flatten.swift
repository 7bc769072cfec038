import Tensor

/// [N, d1, d2, …] → [N, d1·d2·…]; the storage is shared, not copied.
public struct Flatten: LinearOperator {
    public init() {}

    public func outputShape(for input: Shape) throws -> Shape {
        guard input.rank >= 1 else { throw TensorError.invalidArgument("Flatten: expected a batch, got a scalar") }
        return [input[0], input.sampleCount]
    }

    public func applyLinear(_ x: Tensor) throws -> Tensor { try x.reshaped(try outputShape(for: x.shape)) }
    public func applyAdjoint(_ g: Tensor, inputShape: Shape) throws -> Tensor { try g.reshaped(inputShape) }
}
