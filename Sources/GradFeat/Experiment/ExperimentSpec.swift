import Foundation
import Layers

/// Everything that decides one experiment — data, base network, split and linearized layers, the extractors with
/// their options, training, output folder — as one `Codable` value. Config files decode straight into it (their
/// keys are `ExperimentSpec.keys`), command-line options override it key by key, and `Experiment.run` runs it.
///
/// ```yaml
/// dataset: cifar10            # a registered data set, or a data-set cache: train.h5
/// model: bigan-cifar
/// weights: runs/cifar10/bigan-cifar-rotation.h5
/// mode: [activation, gradient, gradfeat, finetune]
/// linearize: [conv5]
/// optim: adam
/// lr: 0.001
/// niter: 5000
/// ```
public struct ExperimentSpec: Codable, Sendable, Equatable {
    /// The optimiser preset the training keys are laid over: "paper", "paper-full" or "released".
    public var preset: String
    public var data: DataSpec
    /// The base network's registry name, its weights file (nil: random from `seed`) and the parameter-name
    /// prefixes that may keep their initial values.
    public var model: String
    public var weights: String?
    public var keepInitial: [String]
    /// The first θ2 layer and the linearized (fine-tuned) layers; nil: the model's defaults.
    public var split: String?
    public var linearize: [String]?
    public var parametrization: Parametrization
    /// Standardise the features before the heads (statistics of the training set).
    public var standardize: Bool
    /// The extractors to train, in order (`mode` in files).
    public var extractors: [ExtractorSpec]
    /// An activation model's checkpoint whose head is ω̄, when `activation` is not trained in the run.
    public var omega: String?
    /// Pre-train the base network here first ("rotation": without labels; "supervised"); nil: use `weights`.
    public var pretrain: PretrainingMethod?
    public var pretrainIterations: Int
    public var pretrainBatchSize: Int
    public var training: TrainingConfiguration
    /// The run folder.
    public var output: String
    /// Continue each extractor from its checkpoint in `output`.
    public var resume: Bool
    /// The results table's title (nil: one from the data set and model).
    public var title: String?
    /// How much memory data and caches may take (`512MB`, `4GB`; binary units); above it they are streamed from
    /// disk. nil: `MemoryBudget.default`. It never changes a result: a streamed run equals an in-memory one.
    public var memoryBudget: String?
    /// The test-time views each model's predictions are averaged over (`none`, `ten`, `random:N`); with views, the
    /// images are cropped to 7/8 of their side, centred for training (`TestCrops`).
    public var testCrops: TestCrops
    /// Train-time augmentation of the images (`crop:4,flip`); nil: none. An augmented run trains from the images.
    public var augment: Augmentation?

    /// How a base network is pre-trained here: rotation prediction, an autoencoder with a linear decoder, or the
    /// encoder of a BiGAN (no labels for any of the three), or supervised.
    public enum PretrainingMethod: String, Codable, Sendable, CaseIterable {
        case rotation, supervised, autoencoder, bigan
    }

    /// A spec with GradFeat's defaults: Fashion-MNIST, the BiGAN encoder, the four models, the paper's optimiser.
    public init(
        preset: String = "paper", data: DataSpec = DataSpec(), model: String = BiganCIFAR.name, weights: String? = nil,
        keepInitial: [String] = [], split: String? = nil, linearize: [String]? = nil,
        parametrization: Parametrization = .default, standardize: Bool = true,
        extractors: [ExtractorSpec] = ["activation", "gradient", "gradfeat", "finetune"].map { ExtractorSpec($0) },
        omega: String? = nil, pretrain: PretrainingMethod? = nil, pretrainIterations: Int = 400,
        pretrainBatchSize: Int = 128, training: TrainingConfiguration = .paper(iterations: 5_000),
        output: String = "runs/train", resume: Bool = false, title: String? = nil, memoryBudget: String? = nil,
        testCrops: TestCrops = .none, augment: Augmentation? = nil
    ) {
        self.preset = preset
        self.data = data
        self.model = model
        self.weights = weights
        self.keepInitial = keepInitial
        self.split = split
        self.linearize = linearize
        self.parametrization = parametrization
        self.standardize = standardize
        self.extractors = extractors
        self.omega = omega
        self.pretrain = pretrain
        self.pretrainIterations = pretrainIterations
        self.pretrainBatchSize = pretrainBatchSize
        self.training = training
        self.output = output
        self.resume = resume
        self.title = title
        self.memoryBudget = memoryBudget
        self.testCrops = testCrops
        self.augment = augment
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case preset, model, weights, keepInitial = "keep_initial", split, linearize, parametrization, standardize
        case extractors = "mode", omega, pretrain, pretrainIterations = "pretrain_niter"
        case pretrainBatchSize = "pretrain_batchsize", output, resume, title, memoryBudget = "memory_budget"
        case testCrops = "test_crops", augment
    }

    /// Every key a config file may hold.
    public static var keys: [String] {
        (CodingKeys.allCases.map(\.rawValue) + DataSpec.CodingKeys.allCases.map(\.rawValue)
            + TrainingConfiguration.fileKeys).sorted()
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        preset = try c.decode(String.self, forKey: .preset)
        data = try DataSpec(from: decoder)
        model = try c.decode(String.self, forKey: .model)
        weights = try c.decodeIfPresent(String.self, forKey: .weights)
        keepInitial = try Self.names(c, .keepInitial) ?? []
        split = try c.decodeIfPresent(String.self, forKey: .split)
        linearize = try Self.names(c, .linearize)
        parametrization = try c.decode(Parametrization.self, forKey: .parametrization)
        standardize = try c.decode(Bool.self, forKey: .standardize)
        if let text = try? c.decode(String.self, forKey: .extractors) {
            extractors = Self.commaSeparated(text).map { ExtractorSpec($0) }
        } else {
            extractors = try c.decode([ExtractorSpec].self, forKey: .extractors)
        }
        omega = try c.decodeIfPresent(String.self, forKey: .omega)
        pretrain = try c.decodeIfPresent(PretrainingMethod.self, forKey: .pretrain)
        pretrainIterations = try c.decode(Int.self, forKey: .pretrainIterations)
        pretrainBatchSize = try c.decode(Int.self, forKey: .pretrainBatchSize)
        training = try TrainingConfiguration(from: decoder)
        output = try c.decode(String.self, forKey: .output)
        resume = try c.decode(Bool.self, forKey: .resume)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        memoryBudget = try c.decodeIfPresent(String.self, forKey: .memoryBudget)
        testCrops = try c.decodeIfPresent(TestCrops.self, forKey: .testCrops) ?? .none
        if let text = try c.decodeIfPresent(String.self, forKey: .augment) {
            do { augment = try Augmentation.parse(text, option: "augment") } catch {
                throw DecodingError.dataCorruptedError(forKey: .augment, in: c, debugDescription: "\(error)")
            }
        } else {
            augment = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(preset, forKey: .preset)
        try data.encode(to: encoder)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(weights, forKey: .weights)
        try c.encode(keepInitial, forKey: .keepInitial)
        try c.encodeIfPresent(split, forKey: .split)
        try c.encodeIfPresent(linearize, forKey: .linearize)
        try c.encode(parametrization, forKey: .parametrization)
        try c.encode(standardize, forKey: .standardize)
        try c.encode(extractors, forKey: .extractors)
        try c.encodeIfPresent(omega, forKey: .omega)
        try c.encodeIfPresent(pretrain, forKey: .pretrain)
        try c.encode(pretrainIterations, forKey: .pretrainIterations)
        try c.encode(pretrainBatchSize, forKey: .pretrainBatchSize)
        try training.encode(to: encoder)
        try c.encode(output, forKey: .output)
        try c.encode(resume, forKey: .resume)
        try c.encodeIfPresent(title, forKey: .title)
        try c.encodeIfPresent(memoryBudget, forKey: .memoryBudget)
        try c.encode(testCrops, forKey: .testCrops)
        try c.encodeIfPresent(augment, forKey: .augment)
    }

    /// A list of names, or one comma-separated string of them.
    static func names<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> [String]? {
        if let text = try? c.decode(String.self, forKey: key) { return commaSeparated(text) }
        return try c.decodeIfPresent([String].self, forKey: key)
    }

    /// The names in a comma-separated value (`activation, gradfeat`), trimmed, empty entries dropped.
    public static func commaSeparated(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Throws, naming the key, when a value cannot work.
    public func validate(plugins: Plugins = .shared) throws {
        func fail(_ key: String, _ problem: String) throws {
            throw ConfigError(location: ExperimentSpec.describeKey(key), problem: problem, fix: "correct it")
        }
        try training.validate()
        try data.validate()
        _ = try plugins.models.entry(model)
        if extractors.isEmpty { try fail("mode", "no extractor to train") }
        for extractor in extractors { _ = try plugins.extractors.entry(extractor.name) }
        let names = extractors.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            try fail("mode", "'\(repeated)' is listed twice (each extractor writes one checkpoint, <name>.h5)")
        }
        if linearize?.isEmpty == true { try fail("linearize", "an empty list; name at least one layer") }
        if pretrainIterations < 0 { try fail("pretrain_niter", "must be non-negative, not \(pretrainIterations)") }
        if pretrainBatchSize < 1 { try fail("pretrain_batchsize", "must be at least 1, not \(pretrainBatchSize)") }
        if output.isEmpty { try fail("output", "an empty folder name") }
        if let augment, training.solver != .minibatch {
            try fail(
                "augment",
                "\(augment) draws new images every step, but solver \(training.solver.rawValue) fits one "
                    + "fixed training set; use solver minibatch, or augment none")
        }
        if let memoryBudget {
            do { _ = try MemoryBudget(parsing: memoryBudget, option: "memory_budget") } catch {
                try fail("memory_budget", "\(error)")
            }
        }
    }

    /// The memory budget the spec names, else `MemoryBudget.default`.
    public var resolvedMemoryBudget: MemoryBudget {
        get throws { try memoryBudget.map { try MemoryBudget(parsing: $0, option: "memory_budget") } ?? .default }
    }
}

/// Where an experiment's images come from.
public struct DataSpec: Codable, Sendable, Equatable {
    /// A registered data set (`gradfeat list`), or the path of a data-set cache (`.h5`, from `gradfeat cache`).
    public var dataset: String
    /// A data-set cache of test images; nil: the named data set's test split, or — for a cache file — a seeded
    /// `testFraction` of it held out.
    public var testDataset: String?
    public var testFraction: Double
    /// The data folder (nil: `$GRADFEAT_DATA_DIR`, else `../shared/datasets`).
    public var dataDirectory: String?
    /// Side of the images for data sets of varied sizes (VOC2007, COCO).
    public var imageSize: Int
    /// Use only this many training / test images (seeded subsets); 0: all.
    public var trainSize: Int
    public var testSize: Int

    public init(
        dataset: String = "fashion-mnist", testDataset: String? = nil, testFraction: Double = 0.2,
        dataDirectory: String? = nil, imageSize: Int = 64, trainSize: Int = 0, testSize: Int = 0
    ) {
        self.dataset = dataset
        self.testDataset = testDataset
        self.testFraction = testFraction
        self.dataDirectory = dataDirectory
        self.imageSize = imageSize
        self.trainSize = trainSize
        self.testSize = testSize
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dataset, testDataset = "test_dataset", testFraction = "test_fraction", dataDirectory = "data_dir"
        case imageSize = "image_size", trainSize = "train_size", testSize = "test_size"
    }

    /// Whether `dataset` names a data-set cache file rather than a registered data set.
    public static func isCacheFile(_ name: String) -> Bool { name.lowercased().hasSuffix(".h5") }

    public func validate() throws {
        func fail(_ key: String, _ problem: String) throws {
            throw ConfigError(location: ExperimentSpec.describeKey(key), problem: problem, fix: "correct it")
        }
        if !(1...8192).contains(imageSize) { try fail("image_size", "must be from 1 to 8192, not \(imageSize)") }
        if trainSize < 0 { try fail("train_size", "must be non-negative, not \(trainSize)") }
        if testSize < 0 { try fail("test_size", "must be non-negative, not \(testSize)") }
        if !(testFraction > 0 && testFraction < 1) {
            try fail("test_fraction", "must lie strictly between 0 and 1, not \(testFraction)")
        }
        if let testDataset, !Self.isCacheFile(testDataset) {
            try fail("test_dataset", "'\(testDataset)' is not a data-set cache (.h5); write one with `gradfeat cache`")
        }
    }
}

extension ExperimentSpec {
    /// The spec from `layers` laid over each other (preset < command defaults < file < command line): one decoding
    /// of the merged keys, so that every key takes the last layer's value. Unknown keys and values of the wrong type
    /// are refused with where they came from and what is expected.
    public static func resolve(_ layers: [ConfigLayer]) throws -> ExperimentSpec {
        let merged = ConfigLayer.merged(layers)
        let known = Set(keys)
        for key in merged.values.keys.sorted() where !known.contains(key) {
            throw ConfigError(
                location: merged.originOfKey(key) ?? "key '\(key)'", problem: "unknown key '\(key)'",
                fix: "the keys are \(keys.joined(separator: ", "))")
        }
        do {
            var spec = try ConfigValue.object(merged.values).decode(ExperimentSpec.self)
            for i in spec.extractors.indices {
                for key in spec.extractors[i].options.keys {
                    spec.extractors[i].origins[key] = merged.origin(of: ["mode", String(i), "options", key])
                }
            }
            return spec
        } catch let error as DecodingError {
            var (path, problem) = describe(error)
            if path.isEmpty, let base = layers.first {
                // Foundation names no key for a number that does not fit its type (2.5 for an integer): find the
                // key by decoding the first layer with one key of the merged layers at a time.
                for key in merged.values.keys.sorted() where merged.values[key] != base.values[key] {
                    var single = base.values
                    single[key] = merged.values[key]
                    guard (try? ConfigValue.object(single).decode(ExperimentSpec.self)) == nil else { continue }
                    path = [key]
                    problem = base.values[key].map(Self.expectation) ?? "has the wrong type"
                    break
                }
            }
            throw ConfigError(
                location: merged.origin(of: path) ?? "key '\(path.joined(separator: "."))'",
                problem: "'\(path.joined(separator: "."))' \(problem)", fix: "correct the value")
        }
    }

    /// What a key whose default is `value` takes.
    static func expectation(_ value: ConfigValue) -> String {
        switch value {
        case .int: return "must be a whole number"
        case .double: return "must be a number"
        case .bool: return "must be true or false"
        case .string: return "must be text"
        case .array: return "must be a list"
        case .object: return "must be a mapping"
        case .null: return "has the wrong type"
        }
    }

    /// The spec of a command: its `defaults` under the preset that the command line or the file names (else
    /// `defaults.preset`), then `commandDefaults` (keys a command sets differently from the preset), then the
    /// config file, then the command line.
    public static func resolve(
        defaults: ExperimentSpec, commandDefaults: ConfigLayer = ConfigLayer(),
        file: ConfigLayer, commandLine: ConfigLayer
    ) throws -> ExperimentSpec {
        var preset = defaults.preset
        if case let .string(name)? = commandLine.values["preset"] ?? file.values["preset"] { preset = name }
        return try resolve([try baseLayer(defaults, preset: preset), commandDefaults, file, commandLine])
    }

    /// The preset's and a command's defaults as the first layer: `defaults` encoded with the training keys of the
    /// preset `preset` (niter, batchsize and the other keys `defaults.training` sets differently win).
    public static func baseLayer(_ defaults: ExperimentSpec, preset: String) throws -> ConfigLayer {
        var spec = defaults
        spec.preset = preset
        spec.training = try TrainingConfiguration.preset(
            preset, iterations: defaults.training.iterations, seed: defaults.training.seed)
        if preset != TrainingConfiguration.paperFull {
            spec.training.evaluateEvery = defaults.training.evaluateEvery
            spec.training.checkpointEvery = defaults.training.checkpointEvery
        }
        guard case let .object(values) = try ConfigValue(encoding: spec) else { return ConfigLayer() }
        return ConfigLayer(
            values: values,
            origins: Dictionary(
                uniqueKeysWithValues: values.keys.map {
                    ($0, "the \(preset) preset and the command's defaults")
                }))
    }

    /// A key as a person finds it: the config-file key and the command-line option that sets it.
    public static func describeKey(_ key: String) -> String {
        let option =
            key == "mode"
            ? "--extractor"
            : key == "pretrain_niter"
                ? "--pretrain-iterations"
                : "--" + key.replacingOccurrences(of: "_", with: "-")
        return "key '\(key)' (option \(option))"
    }

    /// A decoding error as the key path and what the value should be.
    static func describe(_ error: DecodingError) -> (path: [String], problem: String) {
        func path(_ context: DecodingError.Context) -> [String] { context.codingPath.map(\.stringValue) }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Float.Type, is Double.Type, is Float?.Type, is Double?.Type: return "must be a number"
            case is Int.Type, is UInt64.Type, is Int?.Type: return "must be a whole number"
            case is Bool.Type: return "must be true or false"
            case is String.Type, is String?.Type: return "must be text"
            case is [String].Type: return "must be a list of names"
            case is TrainingConfiguration.OptimizerKind.Type: return "must be adam or sgd"
            case is TrainingConfiguration.LossKind.Type, is TrainingConfiguration.LossKind?.Type:
                return "must be ce, bce or mse"
            case is TrainingConfiguration.SolverKind.Type: return "must be minibatch, cg or lbfgs"
            case is TrainingConfiguration.PreconditionerKind.Type: return "must be none or jacobi"
            case is Parametrization.Type: return "must be ntk or standard"
            case is ExperimentSpec.PretrainingMethod.Type: return "must be rotation, supervised, autoencoder or bigan"
            default: return "has the wrong type (\(type))"
            }
        }
        switch error {
        case let .typeMismatch(type, context): return (path(context), kind(type))
        case let .valueNotFound(type, context): return (path(context), kind(type) + ", not null")
        case let .dataCorrupted(context):
            let keys = path(context)
            let hints = [
                "optim": "must be adam or sgd", "parametrization": "must be ntk or standard",
                "pretrain": "must be rotation, supervised, autoencoder or bigan", "loss": "must be ce, bce or mse",
                "solver": "must be minibatch, cg or lbfgs", "preconditioner": "must be none or jacobi",
                "wd": "must be a number or auto", "test_crops": "must be none, ten or random:N (N from 1 to 100)",
                "augment": "must be crop:P,flip, crop:P, flip or none (P from 0 to 64)",
            ]
            return (keys, keys.last.flatMap { hints[$0] } ?? context.debugDescription)
        case let .keyNotFound(missing, context): return (path(context) + [missing.stringValue], "is missing")
        @unknown default: return ([], "\(error)")
        }
    }
}
