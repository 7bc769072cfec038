import Tensor

/// Inverted dropout: in training, each element is kept with probability `1 − p` and scaled by `1/(1 − p)`;
/// in evaluation it is the identity. The mask comes from `mode.seed` and `salt`, so a rerun repeats it exactly.
public struct Dropout: Layer {
    public let probability: Float
    /// Distinguishes the masks of different dropout layers under the same step seed.
    public let salt: UInt64

    public init(probability: Float = 0.5, salt: UInt64 = 0) {
        self.probability = probability
        self.salt = salt
    }

    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }

    public func outputShape(for input: Shape) throws -> Shape { input }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        guard mode.isTraining, probability > 0 else {
            return LayerOutput(value: input, tangent: tangent, record: Record(input: input))
        }
        if let tangent { try tangent.check(input.shape, "Dropout tangent") }
        var rng = SeededRandom(seed: mode.seed ^ (salt &* 0x9E37_79B9_7F4A_7C15))
        let keep = 1 - probability, scale = 1 / keep
        let mask = Tensor(shape: input.shape) { m in
            for i in 0..<m.count { m[i] = rng.nextUnit() < keep ? scale : 0 }
        }
        var value = input
        try value.multiply(by: mask)
        var outputTangent = tangent
        try outputTangent?.multiply(by: mask)
        return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input, saved: [mask]))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(record.input.shape, "Dropout output gradient")
        guard needInputGradient else { return Gradients(input: nil, parameters: []) }
        var dx = outputGradient
        if let mask = record.saved.first { try dx.multiply(by: mask) }
        return Gradients(input: dx, parameters: [])
    }
}
