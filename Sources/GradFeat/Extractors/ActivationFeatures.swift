import Layers
import Tensor

/// The activation baseline: logistic regression on the frozen features,
/// ```
/// F(x) = w1ᵀ f(x) + b
/// ```
/// trained from a random initialisation. Its trained head is ω̄ for the gradient models.
public struct ActivationFeatures: StoredParameterExtractor {
    /// The frozen layers from the input (cached `z0`, or images) to `f`.
    public var featureNetwork: Sequential
    /// `(w1, b)` as stored, named `fc.weight` and `fc.bias`; the stored values are the truth, so a checkpoint
    /// restores them bit for bit.
    public var namedParameters: NamedParameters
    public let parametrization: Parametrization
    let scales: [Float]

    public init(featureNetwork: Sequential, head: LinearHead, parametrization: Parametrization = .default) {
        self.featureNetwork = featureNetwork
        self.parametrization = parametrization
        scales = parametrization.scales(for: head.layer.parameters)
        namedParameters = NamedParameters(
            names: ["fc.weight", "fc.bias"],
            tensors: head.layer.parameters.unscaled(by: scales))
    }

    /// The head `(w1, b)` in effective values.
    public var head: LinearHead {
        var layer = try! Dense(weight: parameters[0], bias: parameters[1]) // shapes fixed at init
        layer.parameters = parameters.scaled(by: scales)
        return LinearHead(layer)
    }

    /// The baseline for a network split at `split`, with a fresh head under `seed`.
    public init(
        network: some BaseNetwork, splitAt split: String, classes: Int, seed: UInt64,
        parametrization: Parametrization = .default
    ) throws {
        var rng = SeededRandom(seed: seed)
        self.init(
            featureNetwork: try network.top(splitAt: split).foldingBatchNorm(),
            head: LinearHead(features: network.featureCount, classes: classes, rng: &rng),
            parametrization: parametrization)
    }

    public func features(_ input: Tensor) throws -> Tensor { try featureNetwork.forward(input, mode: .evaluation) }

    /// The features `f(x)` are the pass: the head's gradients read them.
    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
        try output(features: try features(input), mode: mode)
    }

    /// The model on features already computed (shared with GradFeat, whose JVP pass yields `f`).
    func output(features f: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
        let logits = try head.logits(f)
        return ExtractorOutput(logits: logits, pass: f, mode: mode, activationTerm: logits)
    }

    public func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
        try headGradients(features: output.pass, logitsGradient: logitsGradient)
    }

    /// `∂L/∂(w1, b)` as stored, for features `f` and the logits' gradient.
    func headGradients(features f: Tensor, logitsGradient: Tensor) throws -> [Tensor] {
        try linearHeadGradients(features: f, logitsGradient: logitsGradient).scaled(by: scales)
    }
}
