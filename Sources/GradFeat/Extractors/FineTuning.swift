import Layers
import Tensor

/// The reference: fine-tuning θ2 and the head by backpropagation (non-convex),
/// ```
/// F(x) = ωᵀ f_{θ1, θ2}(x) + b,    trainable θ2 (the linearized layers) and ω, from (θ̄2, ω̄)
/// ```
public struct FineTuning: FeatureExtractor {
    /// The top; its linearized layers are the ones fine-tuned.
    public private(set) var top: LinearizedTop
    public private(set) var head: LinearHead
    public let parametrization: Parametrization

    /// θ2 and `(ω, b)` as stored (the truth; `top` and `head` are refreshed from them).
    public var namedParameters: NamedParameters {
        didSet { refreshEffective() }
    }
    private let scales: [Float]

    public init(top: LinearizedTop, head: LinearHead, parametrization: Parametrization = .default) {
        self.top = top
        self.head = head
        self.parametrization = parametrization
        scales = parametrization.scales(for: top.parameters + head.layer.parameters)
        namedParameters = NamedParameters(
            names: top.parameterNames + ["fc.weight", "fc.bias"],
            tensors: (top.parameters + head.layer.parameters).unscaled(by: scales))
        refreshEffective()
    }

    private mutating func refreshEffective() {
        guard !parameters.isEmpty else { return }
        let effective = parameters.scaled(by: scales)
        let count = effective.count - 2
        top.parameters = Array(effective[0..<count])
        head.layer.parameters = Array(effective[count...])
    }

    public init(
        network: some BaseNetwork, splitAt split: String, linearize: [String], head: LinearHead,
        parametrization: Parametrization = .default
    ) throws {
        self.init(
            top: try LinearizedTop(try network.top(splitAt: split), linearize: linearize), head: head,
            parametrization: parametrization)
    }

    /// Updates the stored parameters in place (no copy of their storage), then refreshes the effective values once.
    public mutating func updateParameters(_ update: (inout [Tensor]) throws -> Void) rethrows {
        var values = namedParameters.tensors
        namedParameters.tensors = [] // unique storage: `update` writes without copying (didSet on [] refreshes nothing)
        defer { namedParameters.tensors = values }
        try update(&values)
    }

    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<TopPass> {
        let pass = try top.apply(input, parameterTangent: nil, mode: mode)
        return ExtractorOutput(
            logits: try head.logits(pass.value), pass: TopPass(record: pass.record, features: pass.value),
            mode: mode)
    }

    public func parameterGradients(_ output: ExtractorOutput<TopPass>, logitsGradient: Tensor) throws -> [Tensor] {
        let headGradients = try linearHeadGradients(features: output.pass.features, logitsGradient: logitsGradient)
        let cotangent = featureCotangent(logitsGradient, headWeight: head.weight)
        let count = scales.count - 2
        let topGradients = try top.parameterGradients(
            output.pass.record, cotangent: cotangent, scales: Array(scales[0..<count]), mode: output.mode)
        return topGradients + headGradients.scaled(by: Array(scales[count...]))
    }
}
