import Tensor

/// What a head is built for: the features' width, the classes, the seed of its initialisation and its options.
public struct HeadRequest: Sendable {
    public var features: Int
    public var classes: Int
    public var seed: UInt64
    public var options: PluginOptions

    public init(features: Int, classes: Int, seed: UInt64, options: PluginOptions = PluginOptions()) {
        self.features = features
        self.classes = classes
        self.seed = seed
        self.options = options
    }
}

/// A head by name.
public struct HeadPlugin: RegistryEntry {
    public typealias Factory = @Sendable (HeadRequest) throws -> any Head

    public var name: String
    public var summary: String
    public var options: [String: String]
    public var registeredAt: String = ""
    public var make: Factory

    public init(name: String, summary: String, options: [String: String] = [:], make: @escaping Factory) {
        self.name = name
        self.summary = summary
        self.options = options
        self.make = make
    }
}

/// Heads by name.
public typealias HeadRegistry = Registry<HeadPlugin>

extension Registry where Entry == HeadPlugin {
    func registerBuiltIns() throws {
        try register(
            HeadPlugin(name: "linear", summary: "the paper's linear ω: W f + b") { request in
                try request.options.refuseAny(for: "head 'linear'")
                var rng = SeededRandom(seed: request.seed)
                return LinearHead(features: request.features, classes: request.classes, rng: &rng)
            })
        try register(
            HeadPlugin(
                name: "mlp", summary: "a two-layer perceptron W2 relu(W1 f + b1) + b2",
                options: ["hidden": "hidden units (default 256)"]
            ) { request in
                let options = try request.options.decode(MLPHeadOptions.self, for: "head 'mlp'", known: ["hidden"])
                guard options.hidden > 0 else {
                    throw ConfigError(
                        location: request.options.origins["hidden"] ?? "head 'mlp'",
                        problem: "hidden must be positive, not \(options.hidden)", fix: "pass hidden: 256")
                }
                var rng = SeededRandom(seed: request.seed)
                return MLPHead(features: request.features, hidden: options.hidden, classes: request.classes, rng: &rng)
            })
    }
}

/// The options of the `mlp` head.
struct MLPHeadOptions: Decodable {
    var hidden = 256

    enum CodingKeys: String, CodingKey { case hidden }

    init(from decoder: any Decoder) throws {
        hidden = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .hidden) ?? hidden
    }
}
