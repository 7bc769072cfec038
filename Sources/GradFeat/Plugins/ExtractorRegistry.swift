import Layers
import Tensor

/// What a registered extractor is built from.
public struct ExtractorContext: Sendable {
    /// The pre-trained base network.
    public var network: Network
    /// The first θ2 layer: the extractor's input is the output of the layers before it (cached `z0`).
    public var split: String
    /// The linearized (or fine-tuned) layers.
    public var linearize: [String]
    public var classes: Int
    /// ω̄: the trained activation baseline's head; nil until that baseline has been trained.
    public var omegaBar: LinearHead?
    public var seed: UInt64
    public var parametrization: Parametrization

    public init(
        network: Network, split: String, linearize: [String], classes: Int, omegaBar: LinearHead? = nil,
        seed: UInt64 = 0, parametrization: Parametrization = .default
    ) {
        self.network = network
        self.split = split
        self.linearize = linearize
        self.classes = classes
        self.omegaBar = omegaBar
        self.seed = seed
        self.parametrization = parametrization
    }

    /// ω̄, or an error saying to train the activation baseline first.
    public func requireOmegaBar(for name: String) throws -> LinearHead {
        guard let omegaBar else {
            throw GradFeatError.invalidConfiguration(
                "extractor '\(name)' needs ω̄, the head of a trained activation model: train --extractor activation "
                    + "first and pass its checkpoint (--omega CHECKPOINT.h5)")
        }
        return omegaBar
    }
}

/// What a plugin needs before it can be built or run.
public enum PluginRequirement: String, Sendable, Codable, CaseIterable {
    /// ω̄, the head of a trained activation baseline (train `activation` first in the run, or pass `--omega`).
    case omegaBar = "ω̄"
    /// Labelled training data.
    case labels
}

/// A feature extractor by name: how to build it from the run's context and its own options.
public struct ExtractorPlugin: RegistryEntry {
    public typealias Factory = @Sendable (ExtractorContext, PluginOptions) throws -> any FeatureExtractor

    public var name: String
    public var summary: String
    public var needs: Set<PluginRequirement>
    /// The option keys it reads, with a one-line description each (shown by `gradfeat list`).
    public var options: [String: String]
    public var registeredAt: String = ""
    public var make: Factory

    public init(
        name: String, summary: String, needs: Set<PluginRequirement> = [.labels],
        options: [String: String] = [:], make: @escaping Factory
    ) {
        self.name = name
        self.summary = summary
        self.needs = needs
        self.options = options
        self.make = make
    }

    /// Whether the extractor needs ω̄ (so the activation baseline must be trained first).
    public var needsOmegaBar: Bool { needs.contains(.omegaBar) }
}

/// Extractors by name, so the trainer, the CLI and config files run a user's own conformance unchanged.
public typealias ExtractorRegistry = Registry<ExtractorPlugin>

extension Registry where Entry == ExtractorPlugin {
    /// The process's extractors: `Plugins.shared.extractors`.
    public static var shared: ExtractorRegistry { Plugins.shared.extractors }

    /// Registers an extractor built from its context alone (no options).
    public func register(
        _ name: String, summary: String, needsOmegaBar: Bool, file: String = #fileID, line: Int = #line,
        make: @escaping @Sendable (ExtractorContext) throws -> any FeatureExtractor
    ) throws {
        try register(
            ExtractorPlugin(name: name, summary: summary, needs: needsOmegaBar ? [.labels, .omegaBar] : [.labels]) {
                context, options in
                try options.refuseAny(for: "extractor '\(name)'")
                return try make(context)
            }, file: file, line: line)
    }

    /// The extractor `name` built for `context` with `options`.
    public func make(_ name: String, context: ExtractorContext, options: PluginOptions = PluginOptions()) throws
        -> any FeatureExtractor
    {
        try entry(name).make(context, options)
    }

    /// GradFeat's own extractors.
    func registerBuiltIns() throws {
        try register("activation", summary: "logistic regression on f(x) (the baseline)", needsOmegaBar: false) { c in
            try ActivationFeatures(
                network: c.network, splitAt: c.split, classes: c.classes, seed: c.seed,
                parametrization: c.parametrization)
        }
        try register("gradient", summary: "ω̄ᵀ J(x) w2 alone, w2 from 0", needsOmegaBar: true) { c in
            try GradientFeatures(
                network: c.network, splitAt: c.split, linearize: c.linearize,
                omegaBar: try c.requireOmegaBar(for: "gradient"), parametrization: c.parametrization)
        }
        try register("gradfeat", summary: "w1ᵀ f(x) + b + ω̄ᵀ J(x) w2 from (ω̄, 0) (the full model)", needsOmegaBar: true)
        { c in
            try GradFeatFeatures(
                network: c.network, splitAt: c.split, linearize: c.linearize,
                omegaBar: try c.requireOmegaBar(for: "gradfeat"), parametrization: c.parametrization)
        }
        try register(
            "finetune", summary: "fine-tuning θ2 and ω by backpropagation (the reference)", needsOmegaBar: true
        ) { c in
            try FineTuning(
                network: c.network, splitAt: c.split, linearize: c.linearize,
                head: try c.requireOmegaBar(for: "finetune"), parametrization: c.parametrization)
        }
        try register(
            "explicit-gradient", summary: "the gradient model with ω̄ᵀJ(x) materialised (small θ2 only)",
            needsOmegaBar: true
        ) { c in
            ExplicitGradientFeatures(
                top: try LinearizedTop(try c.network.top(splitAt: c.split), linearize: c.linearize),
                omegaBar: try c.requireOmegaBar(for: "explicit-gradient"))
        }
        try register(
            ExtractorPlugin(
                name: "projected-gradient",
                summary: "the gradient model in a random K-dimensional subspace of θ2, w2 = Pᵀv (exactly attributable)",
                needs: [.labels, .omegaBar],
                options: [
                    "dimension": "K, the subspace's dimension (default \(ProjectedGradientOptions.defaultDimension))",
                    "seed": "the projection's seed (default: the run's seed)",
                ]
            ) { c, options in
                let chosen = try options.decode(
                    ProjectedGradientOptions.self, for: "extractor 'projected-gradient'",
                    known: ["dimension", "seed"])
                let top = try LinearizedTop(try c.network.top(splitAt: c.split), linearize: c.linearize)
                let projection = try KroneckerProjection(
                    dimension: chosen.dimension, top: top, seed: chosen.seed ?? c.seed,
                    option: "projected-gradient's option dimension")
                return ExplicitGradientFeatures(
                    top: top, omegaBar: try c.requireOmegaBar(for: "projected-gradient"),
                    rowMap: .projected(projection))
            })
    }
}

/// The options of `projected-gradient`: K and the projection's seed.
struct ProjectedGradientOptions: Decodable {
    static let defaultDimension = 1_024
    var dimension = defaultDimension
    var seed: UInt64?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dimension = try container.decodeIfPresent(Int.self, forKey: .dimension) ?? Self.defaultDimension
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed)
    }

    enum CodingKeys: String, CodingKey { case dimension, seed }
}
