/// Every registry GradFeat reads names from: extractors, heads, models and data sets.
///
/// `Plugins.shared` holds the built-ins; a plugin package registers its own there before it runs the CLI
/// (`GradFeatCLI.main()`), and from then on every command, config file and `gradfeat eval --run` finds them by name:
///
/// ```swift
/// try Plugins.shared.extractors.register(ExtractorPlugin(name: "probe-ext", summary: "…") { context, options in
///     try ProbeExtractor(context: context, options: options)
/// })
/// ```
public final class Plugins: Sendable {
    public let extractors: ExtractorRegistry
    public let heads: HeadRegistry
    public let models: ModelRegistry
    public let datasets: DatasetRegistry

    /// The registries, with GradFeat's built-ins unless `builtIns` is false.
    public init(builtIns: Bool = true) {
        extractors = ExtractorRegistry(kind: "extractor")
        heads = HeadRegistry(kind: "head")
        models = ModelRegistry(kind: "model")
        datasets = DatasetRegistry(kind: "data set")
        guard builtIns else { return }
        do {
            try extractors.registerBuiltIns()
            try heads.registerBuiltIns()
            try models.registerBuiltIns()
            try datasets.registerBuiltIns()
        } catch {
            preconditionFailure("GradFeat's built-in plugins do not register: \(error)") // a bug in this file's callees
        }
    }

    /// The process's registries.
    public static let shared = Plugins()
}
