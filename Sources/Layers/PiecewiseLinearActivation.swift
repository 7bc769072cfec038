import Tensor

/// An element-wise activation that is linear on each side of zero: `σ(a) = a` for `a > 0`, else `slope · a`.
///
/// Its derivative is the same mask in every mode:
/// ```
/// σ'(a) = 1 if a > 0 else slope,   ż' = σ'(a) ⊙ ȧ,   ā = σ'(a) ⊙ z̄'
/// ```
public protocol PiecewiseLinearActivation: Layer {
    /// The slope for negative inputs (0 for ReLU).
    var negativeSlope: Float { get }
}

extension PiecewiseLinearActivation {
    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }

    public func outputShape(for input: Shape) throws -> Shape { input }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        if let tangent { try tangent.check(input.shape, "activation tangent") }
        let slope = negativeSlope
        let value = Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                Parallel.forEachSlice(of: x.count) { range in
                    for i in range { out[i] = x[i] > 0 ? x[i] : slope * x[i] }
                }
            }
        }
        let outputTangent = tangent.map { maskedBy(input, $0) }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(record.input.shape, "activation output gradient")
        return Gradients(input: needInputGradient ? maskedBy(record.input, outputGradient) : nil, parameters: [])
    }

    /// `σ'(a) ⊙ v`.
    private func maskedBy(_ preActivation: Tensor, _ v: Tensor) -> Tensor {
        let slope = negativeSlope
        return Tensor(shape: v.shape) { out in
            preActivation.withUnsafeBufferPointer { a in
                v.withUnsafeBufferPointer { v in
                    Parallel.forEachSlice(of: v.count) { range in
                        for i in range { out[i] = a[i] > 0 ? v[i] : slope * v[i] }
                    }
                }
            }
        }
    }
}

/// The rectifier `max(a, 0)`.
public struct ReLU: PiecewiseLinearActivation {
    public var negativeSlope: Float { 0 }
    public init() {}
}

/// The leaky rectifier `max(a, slope · a)` (the paper's CIFAR encoder uses slope 0.01).
public struct LeakyReLU: PiecewiseLinearActivation {
    public let negativeSlope: Float
    public init(slope: Float = 0.01) { negativeSlope = slope }
}
