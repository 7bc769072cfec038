import Foundation
import Tensor

/// An element-wise activation whose derivative is a function of its output, as tanh's and the sigmoid's are: a
/// generator's last layer (tanh maps to images in [−1, 1]) and a discriminator's (the sigmoid gives a probability).
///
/// ```
/// y = f(x)        ẏ = f′(x) ⊙ ẋ        x̄ = f′(x) ⊙ ȳ        f′(x) = derivative(y)
/// ```
/// The output is kept for the backward pass, so it needs no second evaluation of `f`.
public protocol SmoothActivation: Layer {
    /// `f(x)`.
    static func value(_ x: Float) -> Float
    /// `f′(x)` written with `y = f(x)`.
    static func derivative(output y: Float) -> Float
}

extension SmoothActivation {
    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }

    public func outputShape(for input: Shape) throws -> Shape { input }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        if let tangent { try tangent.check(input.shape, "activation tangent") }
        let value = Tensor(shape: input.shape) { out in
            input.withUnsafeBufferPointer { x in
                Parallel.forEachSlice(of: x.count) { range in
                    for i in range { out[i] = Self.value(x[i]) }
                }
            }
        }
        let outputTangent = tangent.map { Self.scaledByDerivative($0, output: value) }
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input, saved: [value]))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(record.input.shape, "activation output gradient")
        guard needInputGradient else { return Gradients(input: nil, parameters: []) }
        let output = try record.saved.first ?? forward(record.input, mode: mode)
        return Gradients(input: Self.scaledByDerivative(outputGradient, output: output), parameters: [])
    }

    /// `f′ ⊙ v`, with `f′` from the output.
    static func scaledByDerivative(_ v: Tensor, output: Tensor) -> Tensor {
        Tensor(shape: v.shape) { out in
            output.withUnsafeBufferPointer { y in
                v.withUnsafeBufferPointer { v in
                    Parallel.forEachSlice(of: v.count) { range in
                        for i in range { out[i] = Self.derivative(output: y[i]) * v[i] }
                    }
                }
            }
        }
    }
}

/// `tanh(x)`; `f′ = 1 − y²`.
public struct Tanh: SmoothActivation {
    public init() {}
    public static func value(_ x: Float) -> Float { Foundation.tanh(x) }
    public static func derivative(output y: Float) -> Float { 1 - y * y }
}

/// The logistic sigmoid `1 / (1 + e^(−x))`; `f′ = y (1 − y)`.
public struct Sigmoid: SmoothActivation {
    public init() {}
    public static func value(_ x: Float) -> Float {
        // Split by sign so that neither branch overflows `exp`.
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
    public static func derivative(output y: Float) -> Float { y * (1 - y) }
}
