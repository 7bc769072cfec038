import Tensor

/// A frozen per-feature standardisation of [N, d] features, `y = (x − μ) ⊙ s` with `s = 1/σ`, its statistics
/// measured once on training data (`running`-style buffers `mean` and `inv_std`, saved with the weights).
///
/// Deep features are often tiny (each default-initialised layer shrinks them); a linear model on them then learns
/// slowly. Standardising is an affine map, so the linearization and the gradient features pass through it:
/// ```
/// ẏ = s ⊙ ẋ,    x̄ = s ⊙ ȳ
/// ```
public struct Standardize: Layer {
    public var mean: Tensor
    public var inverseStd: Tensor

    public init(mean: Tensor, inverseStd: Tensor) throws {
        try inverseStd.check(mean.shape, "Standardize statistics")
        self.mean = mean
        self.inverseStd = inverseStd
    }

    /// Statistics of `features` [N, d]: per-feature mean and `1/√(var + ε)`.
    public init(measuring features: Tensor, epsilon: Float = 1e-5) throws {
        try features.checkRank(2, "Standardize", pattern: "[N, d]")
        let (n, d) = (features.shape[0], features.shape[1])
        var mean = [Double](repeating: 0, count: d), square = mean
        features.withUnsafeBufferPointer { x in
            for row in 0..<n {
                for j in 0..<d {
                    let v = Double(x[row * d + j])
                    mean[j] += v
                    square[j] += v * v
                }
            }
        }
        let m = mean.map { $0 / Double(max(n, 1)) }
        let inv = zip(square, m).map { 1 / (max(0, $0 / Double(max(n, 1)) - $1 * $1) + Double(epsilon)).squareRoot() }
        try self.init(mean: Tensor(vector: m.map(Float.init)), inverseStd: Tensor(vector: inv.map(Float.init)))
    }

    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }
    public var buffers: [Tensor] {
        get { [mean, inverseStd] }
        set { (mean, inverseStd) = (newValue[0], newValue[1]) }
    }
    public var bufferNames: [String] { ["mean", "inv_std"] }

    public func outputShape(for input: Shape) throws -> Shape {
        guard input.rank == 2, input[1] == mean.count else {
            throw TensorError.shapeMismatch(
                operation: "Standardize input", expected: [input.rank > 0 ? input[0] : 1, mean.count], got: input)
        }
        return input
    }

    /// `(x − shift) ⊙ s` row by row.
    private func transform(_ x: Tensor, shift: Bool) -> Tensor {
        let d = mean.count
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { x in
                mean.withUnsafeBufferPointer { m in
                    inverseStd.withUnsafeBufferPointer { s in
                        for row in 0..<(x.count / max(d, 1)) {
                            for j in 0..<d { out[row * d + j] = (x[row * d + j] - (shift ? m[j] : 0)) * s[j] }
                        }
                    }
                }
            }
        }
    }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        _ = try outputShape(for: input.shape)
        if let tangent { try tangent.check(input.shape, "Standardize tangent") }
        return LayerOutput(
            value: transform(input, shift: true), tangent: tangent.map { transform($0, shift: false) },
            record: Record(input: input))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(record.input.shape, "Standardize output gradient")
        return Gradients(input: needInputGradient ? transform(outputGradient, shift: false) : nil, parameters: [])
    }
}
