import Layers
import Tensor

/// Checks a layer's JVP and VJP against central finite differences and against each other.
///
/// With a random cotangent `u`, input direction `v` and parameter direction `p`:
/// - JVP: `jvp(x; v, p)` against `(f(x + εv; θ + εp) − f(x − εv; θ − εp)) / 2ε`, as a relative error of tensors;
/// - VJP: `⟨vjp_x(u), v⟩ + ⟨vjp_θ(u), p⟩` against `(⟨u, f(x + εv; θ + εp)⟩ − ⟨u, f(x − εv; θ − εp)⟩) / 2ε`, and the
///   same separately for the input alone and for each parameter alone;
/// - adjoint identity: `⟨u, J [v; p]⟩ = ⟨Jᵀ u, [v; p]⟩`.
/// Layers compute in Float32; every inner product and difference quotient is accumulated in Double. Each error is
/// the smallest over a ladder of step sizes ε: too large a step crosses the kinks of ReLU and max pooling, too small
/// a step drowns in Float32 rounding, and a wrong derivative is wrong at every step.
public struct GradientCheck {
    public var jvpError = 0.0
    public var inputGradientError = 0.0
    public var parameterGradientErrors: [Double] = []
    public var adjointError = 0.0
    /// Input and parameter gradients together against the difference quotient along both directions.
    public var totalGradientError = 0.0

    /// The largest of all errors.
    public var worst: Double {
        ([jvpError, inputGradientError, adjointError, totalGradientError] + parameterGradientErrors).max()!
    }

    public init<L: Layer>(
        _ layer: L, input: Tensor, mode: Mode = .evaluation,
        epsilons: [Float] = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4], seed: UInt64 = 7
    ) throws {
        var rng = SeededRandom(seed: seed)
        let output = try layer.apply(input, tangent: nil, parameterTangent: nil, mode: mode)
        let u = randomTensor(output.value.shape, &rng)
        let v = randomTensor(input.shape, &rng)
        let p = layer.parameters.map { randomTensor($0.shape, &rng) }

        /// f(x + s·εv; θ + s·εp), with either direction optionally switched off.
        func perturbed(_ epsilon: Float, _ sign: Float, input useInput: Bool, parameters mask: [Bool]) throws -> Tensor
        {
            var moved = layer
            var x = input
            if useInput { try x.add(v, scaledBy: sign * epsilon) }
            var parameters = moved.parameters
            for i in parameters.indices where mask[i] { try parameters[i].add(p[i], scaledBy: sign * epsilon) }
            moved.parameters = parameters
            return try moved.forward(x, mode: mode)
        }
        func directional(_ epsilon: Float, input useInput: Bool, parameters mask: [Bool]) throws -> (Tensor, Double) {
            let plus = try perturbed(epsilon, 1, input: useInput, parameters: mask)
            let minus = try perturbed(epsilon, -1, input: useInput, parameters: mask)
            var quotient = try plus - minus
            quotient.scale(by: 1 / (2 * epsilon))
            let scalar = (try u.dot(plus) - u.dot(minus)) / (2 * Double(epsilon))
            return (quotient, scalar)
        }

        let analytic = try layer.jvp(input, tangent: v, parameterTangent: p.isEmpty ? nil : p, mode: mode)
        let gradients = try layer.vjp(output.record, outputGradient: u, needInputGradient: true, mode: mode)
        let inputPart = try gradients.input!.dot(v)
        let parameterParts = try zip(gradients.parameters, p).map { try $0.dot($1) }
        adjointError = relativeError(try u.dot(analytic.tangent), inputPart + parameterParts.reduce(0, +))

        let all = [Bool](repeating: true, count: p.count), none = [Bool](repeating: false, count: p.count)
        (jvpError, totalGradientError, inputGradientError) = (.infinity, .infinity, .infinity)
        parameterGradientErrors = Array(repeating: .infinity, count: p.count)
        for epsilon in epsilons {
            let (numericTangent, numericAll) = try directional(epsilon, input: true, parameters: all)
            jvpError = min(jvpError, relativeError(analytic.tangent, numericTangent))
            totalGradientError = min(
                totalGradientError, relativeError(inputPart + parameterParts.reduce(0, +), numericAll, floor: 1e-6))
            let numericInput = try directional(epsilon, input: true, parameters: none).1
            inputGradientError = min(inputGradientError, relativeError(inputPart, numericInput, floor: 1e-6))
            for i in p.indices {
                var only = none
                only[i] = true
                let numeric = try directional(epsilon, input: false, parameters: only).1
                parameterGradientErrors[i] = min(
                    parameterGradientErrors[i], relativeError(parameterParts[i], numeric, floor: 1e-6))
            }
        }
    }
}
