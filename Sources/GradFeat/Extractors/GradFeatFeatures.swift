import Layers
import Tensor

/// The full GradFeat model: activations and gradients as features of one linear model,
/// ```
/// F(x) = w1ᵀ f(x) + b + ω̄ᵀ J(x) w2,     w1 = ω̄, b = b̄, w2 = 0 at initialisation
/// ```
/// the first-order Taylor expansion of fine-tuning θ2 and ω around (θ̄2, ω̄). At initialisation it reproduces the
/// pre-trained network's logits exactly.
///
/// The two terms may use different networks (the paper's Table 1 ablation: random or pre-trained θ1, θ2, ω chosen
/// independently). When they share one, a single JVP pass yields both `f` and `ḟ`.
public struct GradFeatFeatures: FeatureExtractor {
    public var activation: ActivationFeatures
    public var gradient: GradientFeatures
    /// True when the activation term's features are the primal of the gradient term's pass.
    public let sharesPrimal: Bool

    /// The standard model: one network, split at `split`, with `linearize` layers, around the trained head ω̄.
    public init(
        network: some BaseNetwork, splitAt split: String, linearize: [String], omegaBar: LinearHead,
        parametrization: Parametrization = .default
    ) throws {
        let gradient = try GradientFeatures(
            network: network, splitAt: split, linearize: linearize, omegaBar: omegaBar, parametrization: parametrization
        )
        self.activation = ActivationFeatures(
            featureNetwork: gradient.top.layers, head: omegaBar, parametrization: parametrization)
        self.gradient = gradient
        self.sharesPrimal = true
    }

    /// Separate paths (ablations): `activation` computes `w1ᵀ f + b`, `gradient` computes `ω̄ᵀ J w2`, on one input.
    public init(activation: ActivationFeatures, gradient: GradientFeatures) {
        self.activation = activation
        self.gradient = gradient
        self.sharesPrimal = false
    }

    public var namedParameters: NamedParameters {
        get { activation.namedParameters + gradient.namedParameters }
        set {
            activation.parameters = Array(newValue.tensors[0..<2])
            gradient.parameters = Array(newValue.tensors[2...])
        }
    }

    public mutating func updateParameters(_ update: (inout [Tensor]) throws -> Void) rethrows {
        var combined = activation.takeParameters() + gradient.takeParameters()
        defer {
            activation.parameters = Array(combined[0..<2])
            gradient.parameters = Array(combined[2...])
        }
        try update(&combined)
    }

    /// The pass of both terms: the gradient term's top pass, and the activation term's features (the same `f`
    /// when the terms share the primal).
    public struct Pass: Sendable {
        public var gradient: TopPass
        public var activationFeatures: Tensor
    }

    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Pass> {
        let gradientOutput = try gradient.forward(input, mode: mode)
        let features = sharesPrimal ? gradientOutput.pass.features : try activation.features(input)
        let activationOutput = try activation.output(features: features, mode: mode)
        var logits = activationOutput.logits
        try logits.add(gradientOutput.logits)
        return ExtractorOutput(
            logits: logits, pass: Pass(gradient: gradientOutput.pass, activationFeatures: features), mode: mode,
            activationTerm: activationOutput.logits, gradientTerm: gradientOutput.logits)
    }

    public func parameterGradients(_ output: ExtractorOutput<Pass>, logitsGradient: Tensor) throws -> [Tensor] {
        let gradientOutput = ExtractorOutput(logits: output.logits, pass: output.pass.gradient, mode: output.mode)
        return try activation.headGradients(features: output.pass.activationFeatures, logitsGradient: logitsGradient)
            + gradient.parameterGradients(gradientOutput, logitsGradient: logitsGradient)
    }
}
