import Layers
import Tensor

/// The gradient baseline: a linear model on the gradient features alone,
/// ```
/// F(x) = ω̄ᵀ J(x) w2,    J(x) = ∂f/∂θ2 at θ̄,   w2 initialised at 0
/// ```
/// computed by one forward tangent pass and trained by backpropagation through the tangent chain.
public struct GradientFeatures: StoredParameterExtractor {
    /// The top with its linearized layers at θ̄2.
    public var top: LinearizedTop
    /// ω̄, the head of the trained activation baseline (effective values).
    public var omegaBar: Head
    /// w2 as stored (shaped like θ2), initialised at 0.
    public var parameters: [Tensor]
    public let parametrization: Parametrization
    private let scales: [Float]

    public init(top: LinearizedTop, omegaBar: Head, parametrization: Parametrization = .default) {
        self.top = top
        self.omegaBar = omegaBar
        self.parameters = top.zeroTangent
        self.parametrization = parametrization
        scales = parametrization.scales(for: parameters)
    }

    /// w2 in effective values: the parameter tangent of the JVP pass.
    public var tangent: [Tensor] {
        get { parameters.scaled(by: scales) }
        set { parameters = newValue.unscaled(by: scales) }
    }

    public init(network: some BaseNetwork, splitAt split: String, linearize: [String], omegaBar: Head,
                parametrization: Parametrization = .default) throws {
        self.init(top: try LinearizedTop(try network.top(splitAt: split), linearize: linearize),
                  omegaBar: omegaBar, parametrization: parametrization)
    }

    public var parameterNames: [String] { top.parameterNames.map { "w2.\($0)" } }

    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput {
        // w2 as stored, its NTK factors applied inside the products (no scaled copy of w2).
        let pass = try top.apply(input, parameterTangent: parameters, scales: scales)
        let fTangent = pass.tangent ?? .zeros(like: pass.value)
        let gradientTerm = try omegaBar.linearPart(fTangent)
        return ExtractorOutput(logits: gradientTerm, record: pass.record, features: pass.value, gradientTerm: gradientTerm)
    }

    public func parameterGradients(_ output: ExtractorOutput, logitsGradient: Tensor) throws -> [Tensor] {
        // ∂L/∂ḟ = g ω̄, then the adjoint of w2 ↦ ḟ.
        let cotangent = featureCotangent(logitsGradient, headWeight: omegaBar.weight)
        return try top.parameterGradients(output.record!, cotangent: cotangent, scales: scales)
    }
}
