import Layers
import Tensor

/// The gradient baseline: a linear model on the gradient features alone,
/// ```
/// F(x) = ω̄ᵀ J(x) w2,    J(x) = ∂f/∂θ2 at θ̄,   w2 initialised at 0
/// ```
/// computed by one forward tangent pass and trained by backpropagation through the tangent chain. ω̄ may be any
/// `Head`: the gradient term is then the head's JVP at `f` applied to `ḟ = J(x) w2` (for the paper's linear head,
/// `ω̄ᵀ ḟ`).
public struct GradientFeatures: StoredParameterExtractor {
    /// The top with its linearized layers at θ̄2.
    public var top: LinearizedTop
    /// ω̄, the head of the trained activation baseline (effective values).
    public var omegaBar: any Head
    /// w2 as stored (shaped like θ2), initialised at 0.
    public var namedParameters: NamedParameters
    public let parametrization: Parametrization
    private let scales: [Float]

    public init(top: LinearizedTop, omegaBar: any Head, parametrization: Parametrization = .default) {
        self.top = top
        self.omegaBar = omegaBar
        namedParameters = NamedParameters(names: top.parameterNames.map { "w2.\($0)" }, tensors: top.zeroTangent)
        self.parametrization = parametrization
        scales = parametrization.scales(for: top.zeroTangent)
    }

    /// w2 in effective values: the parameter tangent of the JVP pass.
    public var tangent: [Tensor] {
        get { parameters.scaled(by: scales) }
        set { parameters = newValue.unscaled(by: scales) }
    }

    public init(
        network: some BaseNetwork, splitAt split: String, linearize: [String], omegaBar: any Head,
        parametrization: Parametrization = .default
    ) throws {
        self.init(
            top: try LinearizedTop(try network.top(splitAt: split), linearize: linearize),
            omegaBar: omegaBar, parametrization: parametrization)
    }

    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<TopPass> {
        // w2 as stored, its NTK factors applied inside the products (no scaled copy of w2).
        let pass = try top.apply(input, parameterTangent: parameters, scales: scales)
        let fTangent = pass.tangent ?? .zeros(like: pass.value)
        let gradientTerm = try omegaBar.jvp(at: pass.value, tangent: fTangent)
        return ExtractorOutput(
            logits: gradientTerm, pass: TopPass(record: pass.record, features: pass.value), mode: mode,
            gradientTerm: gradientTerm)
    }

    public func parameterGradients(_ output: ExtractorOutput<TopPass>, logitsGradient: Tensor) throws -> [Tensor] {
        // ∂L/∂ḟ = (∂ω̄/∂f)ᵀ g (g ω̄ for the linear head), then the adjoint of w2 ↦ ḟ.
        let cotangent = try omegaBar.featureGradient(at: output.pass.features, logitsGradient: logitsGradient)
        return try top.parameterGradients(output.pass.record, cotangent: cotangent, scales: scales)
    }
}
