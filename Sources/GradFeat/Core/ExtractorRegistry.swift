import Layers
import Synchronization
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
    public var omegaBar: Head?
    public var seed: UInt64
    public var parametrization: Parametrization

    public init(network: Network, split: String, linearize: [String], classes: Int, omegaBar: Head? = nil,
                seed: UInt64 = 0, parametrization: Parametrization = .default) {
        self.network = network
        self.split = split
        self.linearize = linearize
        self.classes = classes
        self.omegaBar = omegaBar
        self.seed = seed
        self.parametrization = parametrization
    }

    /// ω̄, or an error saying to train the activation baseline first.
    public func requireOmegaBar(for name: String) throws -> Head {
        guard let omegaBar else {
            throw GradFeatError.invalidConfiguration(
                "extractor '\(name)' needs ω̄, the head of a trained activation model: train --extractor activation "
                    + "first and pass its checkpoint (--omega CHECKPOINT.h5)")
        }
        return omegaBar
    }
}

/// Extractors by name, so the trainer, the CLI and config files run a user's own conformance unchanged.
public final class ExtractorRegistry: Sendable {
    public typealias Factory = @Sendable (ExtractorContext) throws -> any FeatureExtractor

    public struct Entry: Sendable {
        public var name: String
        public var summary: String
        /// Whether the extractor needs ω̄ (so the activation baseline must be trained first).
        public var needsOmegaBar: Bool
        public var make: Factory
    }

    public static let shared = ExtractorRegistry()

    private let entries = Mutex<[String: Entry]>([:])

    public init(builtIns: Bool = true) {
        guard builtIns else { return }
        register("activation", summary: "logistic regression on f(x) (the baseline)", needsOmegaBar: false) { c in
            try ActivationFeatures(network: c.network, splitAt: c.split, classes: c.classes, seed: c.seed,
                                   parametrization: c.parametrization)
        }
        register("gradient", summary: "ω̄ᵀ J(x) w2 alone, w2 from 0", needsOmegaBar: true) { c in
            try GradientFeatures(network: c.network, splitAt: c.split, linearize: c.linearize,
                                 omegaBar: try c.requireOmegaBar(for: "gradient"), parametrization: c.parametrization)
        }
        register("gradfeat", summary: "w1ᵀ f(x) + b + ω̄ᵀ J(x) w2 from (ω̄, 0) (the full model)", needsOmegaBar: true) { c in
            try GradFeatFeatures(network: c.network, splitAt: c.split, linearize: c.linearize,
                                 omegaBar: try c.requireOmegaBar(for: "gradfeat"), parametrization: c.parametrization)
        }
        register("finetune", summary: "fine-tuning θ2 and ω by backpropagation (the reference)", needsOmegaBar: true) { c in
            try FineTuning(network: c.network, splitAt: c.split, linearize: c.linearize,
                           head: try c.requireOmegaBar(for: "finetune"), parametrization: c.parametrization)
        }
        register("explicit-gradient", summary: "the gradient model with ω̄ᵀJ(x) materialised (small θ2 only)",
                 needsOmegaBar: true) { c in
            ExplicitGradientFeatures(
                top: try LinearizedTop(try c.network.top(splitAt: c.split), linearize: c.linearize),
                omegaBar: try c.requireOmegaBar(for: "explicit-gradient"))
        }
    }

    /// Adds (or replaces) an extractor under `name`.
    public func register(_ name: String, summary: String, needsOmegaBar: Bool, make: @escaping Factory) {
        entries.withLock { $0[name] = Entry(name: name, summary: summary, needsOmegaBar: needsOmegaBar, make: make) }
    }

    public var names: [String] { entries.withLock { $0.keys.sorted() } }

    public func entry(_ name: String) throws -> Entry {
        guard let entry = entries.withLock({ $0[name] }) else {
            throw GradFeatError.unknownExtractor(name, known: names)
        }
        return entry
    }

    public func make(_ name: String, context: ExtractorContext) throws -> any FeatureExtractor {
        try entry(name).make(context)
    }
}
