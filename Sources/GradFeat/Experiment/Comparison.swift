import Cluster
import Foundation
import Layers
import Tensor

/// The paper's comparison on one task: activation baseline, gradient baseline, full GradFeat and fine-tuning,
/// trained on the cached bottom activations of one pre-trained network and evaluated on a test set.
public struct Comparison: Sendable {
    public var network: Network
    public var split: String
    public var linearize: [String]
    /// Extractors in the order they run; the activation baseline comes first, as it provides ω̄.
    public var extractors: [String]
    /// The training configuration of each extractor (the activation baseline's is used for any not named).
    public var configurations: [String: TrainingConfiguration]
    public var parametrization: Parametrization
    public var registry: ExtractorRegistry
    public var quiet: Bool
    /// Standardise the features `f` with statistics of the training set before any head sees them (a frozen
    /// `Standardize` layer named `norm` appended to the backbone): deep features of default-initialised networks
    /// are tiny, and linear models on them learn slowly otherwise.
    public var standardizeFeatures = true
    /// Where each extractor's checkpoint `<name>.h5` is written (every `checkpoint_every` iterations and at the end).
    public var checkpointDirectory: URL?
    /// Continue each extractor from its checkpoint in `checkpointDirectory` when one exists.
    public var resume = false
    /// Each extractor's ``Trajectory``, recorded in its checkpoint and checked when resuming.
    public var trajectories: [String: Trajectory] = [:]
    /// Each extractor's own options, by name (none when absent).
    public var options: [String: PluginOptions] = [:]
    /// Test-time views of the test set (`TestCrops`): when given, each model's final metrics average its
    /// predictions over them; the periodic evaluations during training use `test`.
    public var testViews: [any BatchSource] = []
    /// Augments every model's training batches (`Trainer.augmentation`); the inputs must then be images.
    public var augmentation: Augmentation?
    /// The processes that share every training step (`Trainer.communicator`).
    public var communicator: any Communicator = SingleProcess()

    public init(
        network: Network, split: String, linearize: [String],
        extractors: [String] = ["activation", "gradient", "gradfeat", "finetune"],
        configurations: [String: TrainingConfiguration], parametrization: Parametrization = .default,
        registry: ExtractorRegistry = .shared, quiet: Bool = false
    ) {
        self.network = network
        self.split = split
        self.linearize = linearize
        self.extractors = extractors
        self.configurations = configurations
        self.parametrization = parametrization
        self.registry = registry
        self.quiet = quiet
    }

    /// One trained model's outcome.
    public struct Row: Sendable {
        public var extractor: String
        public var metrics: Metrics
        public var trainMetrics: Metrics?
        public var history: [EvaluationRecord]
        public var seconds: Double
        public var parameterCount: Int
        /// The trained extractor itself, for measurements beyond the test metrics (objectives, predictions).
        public var trained: (any FeatureExtractor)?

        public init(
            extractor: String, metrics: Metrics, trainMetrics: Metrics? = nil, history: [EvaluationRecord],
            seconds: Double, parameterCount: Int, trained: (any FeatureExtractor)? = nil
        ) {
            self.extractor = extractor
            self.metrics = metrics
            self.trainMetrics = trainMetrics
            self.history = history
            self.seconds = seconds
            self.parameterCount = parameterCount
            self.trained = trained
        }
    }

    /// Caches the frozen bottom's activations of `train` and `test` images (in memory), then runs the comparison.
    public func run(images train: some BatchSource, test: some BatchSource, loss: any Loss) throws -> [Row] {
        let trainCache = try ActivationCache.compute(
            network: network, splitAt: split, data: train, label: "cache train", quiet: quiet)
        let testCache = try ActivationCache.compute(
            network: network, splitAt: split, data: test, label: "cache test", quiet: quiet)
        return try run(train: trainCache, test: testCache, loss: loss)
    }

    /// Trains every extractor on `train` (cached activations) and evaluates on `test`.
    /// `ω̄` is the activation baseline's trained head when it runs, else `omegaBar`, else the network's own head.
    public func run(
        train: some BatchSource, test: any BatchSource, loss: any Loss, omegaBar: LinearHead? = nil,
        onRow: ((Row) throws -> Void)? = nil
    ) throws -> [Row] {
        var network = self.network
        if standardizeFeatures, !network.layerNames.contains("norm") {
            network = try network.standardizingFeatures(using: train, splitAt: split)
        }
        var context = ExtractorContext(
            network: network, split: split, linearize: linearize, classes: train.classCount,
            omegaBar: omegaBar ?? (network.classCount == train.classCount ? network.head : nil),
            seed: configurations["activation"]?.seed ?? 0, parametrization: parametrization)
        try checkSolvers(context)
        var rows: [Row] = []
        let evaluator = Evaluator()
        for name in extractors {
            var extractor = try registry.make(name, context: context, options: options[name] ?? PluginOptions())
            guard let configuration = configurations[name] ?? configurations["activation"] else {
                throw GradFeatError.invalidConfiguration("no training configuration for extractor '\(name)'")
            }
            var trainer = Trainer(configuration: configuration)
            trainer.quiet = quiet
            trainer.label = name
            trainer.augmentation = augmentation
            trainer.communicator = communicator
            var resumeState: TrainingState?
            if let checkpointDirectory {
                let url = checkpointDirectory.appendingPathComponent("\(name).h5")
                let trajectory = trajectories[name]
                trainer.checkpoint = { state in
                    var state = state
                    state.trajectory = trajectory
                    try CheckpointFile.save(state, extractor: name, to: url)
                }
                if resume, FileManager.default.fileExists(atPath: url.path) {
                    let state = try CheckpointFile.load(url).state
                    if let trajectory, let recorded = state.trajectory,
                        let differences = trajectory.differences(from: recorded, mine: "this run", theirs: url.path)
                    {
                        throw GradFeatError.checkpointMismatch(
                            "\(differences); resume with the options it was trained with, or pass another --output")
                    }
                    resumeState = state
                }
                // TensorBoard's scalars, beside the checkpoint (`tensorboard --logdir` the run folder, or runs/): a
                // fresh run replaces an earlier run's; a resumed one restarts at its checkpoint's step, so that the
                // steps evaluated after that checkpoint are not drawn twice.
                let events = try TensorBoardEvents(
                    directory: checkpointDirectory.appendingPathComponent("tensorboard").appendingPathComponent(name),
                    restartingAt: resumeState?.iteration)
                trainer.onScalars = { step, scalars in events.addOrWarnOnce(scalars, step: step) }
            }
            // `loss` fits the labels; a configuration's `loss` key chooses another for its extractor.
            let extractorLoss = configuration.loss == nil ? loss : try configuration.makeLoss(for: train)
            let clock = Date()
            let history = try trainer.train(
                &extractor, on: train, evaluateOn: test, loss: extractorLoss, resume: resumeState)
            let seconds = Date().timeIntervalSince(clock)
            let metrics =
                testViews.isEmpty
                ? try evaluator.evaluate(extractor, on: test, loss: extractorLoss)
                : try evaluator.evaluate(extractor, views: testViews)
            let row = Row(
                extractor: name, metrics: metrics, trainMetrics: nil, history: history, seconds: seconds,
                parameterCount: extractor.parameterCount, trained: extractor)
            rows.append(row)
            try onRow?(row)
            if let activation = extractor as? ActivationFeatures { context.omegaBar = activation.head }
        }
        return rows
    }

    /// Refuses, before anything is trained or written, an extractor that cannot run its configuration's solver
    /// (conjugate gradient needs a model affine in its parameters). Extractors that need ω̄ are built with a
    /// stand-in head for the check.
    func checkSolvers(_ context: ExtractorContext) throws {
        for name in extractors {
            guard let configuration = configurations[name] ?? configurations["activation"],
                configuration.solver == .cg
            else { continue }
            var probe = context
            if probe.omegaBar == nil {
                var rng = SeededRandom(seed: 0)
                probe.omegaBar = LinearHead(features: network.featureCount, classes: context.classes, rng: &rng)
            }
            let extractor = try registry.make(name, context: probe, options: options[name] ?? PluginOptions())
            guard extractor is any AffineInParameters else { throw Trainer.notAffine(name) }
        }
    }
}
