import Foundation

/// What a run (`gradfeat train`, `finetune` or `demo`) records beside its results, as `config.json`: the resolved
/// configuration, and enough to rebuild its base network and trained extractors (`RunDirectory`).
///
/// Fields added after the first version are optional, so older records still decode; `RunDirectory` says which
/// one is missing when it needs it.
public struct RunRecord: Codable, Sendable, Equatable {
    /// The command line that made the run.
    public var command: String
    /// The base network's registry name (`Plugins.shared.models`).
    public var model: String
    /// The base network's weights file (absolute path); nil when it was randomly initialised from `seed`.
    public var weights: String?
    /// Parameter-name prefixes that kept their initial values when the weights were loaded (`fc.` always may).
    public var keepInitial: [String]?
    /// [C, H, W] of the images the network was built for, after padding.
    public var inputShape: [Int]?
    /// The data set's name (`DataCatalog`) and a description of what was used.
    public var dataset: String
    public var data: String
    /// The data options, so that the run's data can be loaded again: the data folder (absolute; nil: the default
    /// lookup), the image side for data sets of varied sizes, and the train and test subset sizes (0: all).
    public var dataDirectory: String?
    public var imageSize: Int?
    public var trainSize: Int?
    public var testSize: Int?
    /// The first θ2 layer (the activation caches hold its input) and the linearized (fine-tuned) layers.
    public var split: String
    public var linearize: [String]
    /// `Parametrization.rawValue` of the trained layers.
    public var parametrization: String
    /// Whether the features were standardised before the heads (nil in older records, which always did).
    public var standardize: Bool?
    /// The activation model's checkpoint that gave ω̄ when the activation model was not trained in this run.
    public var omega: String?
    public var seed: UInt64
    public var pretraining: TrainingConfiguration?
    public var training: TrainingConfiguration
    /// The extractors trained, in order.
    public var extractors: [String]
    /// ISO 8601.
    public var date: String
    /// The whole resolved experiment, paths absolute (nil in records written before `ExperimentSpec`): the
    /// extractors' options, the data-set cache files and the held-out fraction are read back from it.
    public var experiment: ExperimentSpec?

    public init(
        command: String, model: String, weights: String?, keepInitial: [String]? = nil, inputShape: [Int]?,
        dataset: String, data: String, dataDirectory: String? = nil, imageSize: Int? = nil, trainSize: Int? = nil,
        testSize: Int? = nil, split: String, linearize: [String], parametrization: String, standardize: Bool?,
        omega: String? = nil, seed: UInt64, pretraining: TrainingConfiguration? = nil,
        training: TrainingConfiguration, extractors: [String], experiment: ExperimentSpec? = nil,
        date: String = ISO8601DateFormatter().string(from: Date())
    ) {
        self.experiment = experiment
        self.command = command
        self.model = model
        self.weights = weights
        self.keepInitial = keepInitial
        self.inputShape = inputShape
        self.dataset = dataset
        self.data = data
        self.dataDirectory = dataDirectory
        self.imageSize = imageSize
        self.trainSize = trainSize
        self.testSize = testSize
        self.split = split
        self.linearize = linearize
        self.parametrization = parametrization
        self.standardize = standardize
        self.omega = omega
        self.seed = seed
        self.pretraining = pretraining
        self.training = training
        self.extractors = extractors
        self.date = date
    }

    /// `path` as an absolute, standardised path, as records keep file names (so a run is found from any folder).
    public static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
