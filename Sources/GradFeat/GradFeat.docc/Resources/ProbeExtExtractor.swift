// probe-ext: a GradFeat extractor plugin. A random-feature baseline over the base network's frozen features:
//
//     F(x) = W relu(R f(x)) + b        R fixed and seeded, (W, b) trained
//
// It has as many trainable weights as you like (option `width`) but no gradient information, so it tells
// how much of GradFeat's gain over the activation baseline is the gradient features' and how much is width.
// Replace `forward` and `parameterGradients` with your own model: `swift test` checks them against finite
// differences with GradFeat's conformance kit.
import GradFeat
import Layers
import Tensor

public struct ProbeExtExtractor: StoredParameterExtractor {
    /// The options, from a config file (`mode: [{name: probe-ext, options: {width: 256}}]`) or the command line
    /// (`--extractor-option probe-ext.width=256`).
    public struct Options: Decodable, Sendable {
        public var width = 512

        enum CodingKeys: String, CodingKey { case width }

        public init() {}

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            width = try container.decodeIfPresent(Int.self, forKey: .width) ?? width
        }
    }

    /// The registry entry: register it in `Plugins.shared.extractors` and every command finds `probe-ext`.
    public static let plugin = ExtractorPlugin(
        name: "probe-ext",
        summary: "W relu(R f(x)) + b with R fixed and random (a random-feature baseline)",
        needs: [.labels], options: ["width": "the number of random features (default 512)"]
    ) { context, options in
        let decoded = try options.decode(
            Options.self, for: "extractor 'probe-ext'", known: ["width"])
        return try ProbeExtExtractor(context: context, options: decoded)
    }

    /// The frozen layers from the cached activations to the features f (the top, batch norm folded).
    public var featureNetwork: Sequential
    /// R, fixed.
    public var projection: Dense
    /// (W, b) as trained, by name; the optimiser updates them in place (`StoredParameterExtractor`).
    public var namedParameters: NamedParameters

    public init(context: ExtractorContext, options: Options) throws {
        guard options.width > 0 else {
            throw GradFeatError.invalidConfiguration(
                "extractor 'probe-ext': width must be positive, not \(options.width) "
                    + "(e.g. --extractor-option probe-ext.width=512)")
        }
        var rng = SeededRandom(seed: context.seed ^ 0x5EED)
        featureNetwork = try context.network.top(splitAt: context.split).foldingBatchNorm()
        projection = Dense(inputs: context.network.featureCount, outputs: options.width, rng: &rng)
        namedParameters = NamedParameters(
            names: ["head.weight", "head.bias"],
            tensors: Dense(inputs: options.width, outputs: context.classes, rng: &rng).parameters)
    }

    /// relu(R f(x)): what the trained head reads.
    public func randomFeatures(_ input: Tensor) throws -> Tensor {
        try ReLU().forward(try projection.forward(try featureNetwork.forward(input)))
    }

    /// The pass is the random features h: the head's gradients read them.
    public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
        let features = try randomFeatures(input)
        let head = try Dense(weight: parameters[0], bias: parameters[1])
        return ExtractorOutput(logits: try head.forward(features), pass: features, mode: mode)
    }

    /// ∂L/∂W = gᵀ h and ∂L/∂b = Σ g for the logits' gradient g and the random features h.
    public func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
        try linearHeadGradients(features: output.pass, logitsGradient: logitsGradient)
    }
}
