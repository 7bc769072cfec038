import Cluster
import Foundation
import Layers
import Tensor

/// One experiment, end to end (Mu, Liang, Li, ICLR 2020, §4's protocol): load the data, build (or pre-train) the
/// base network, cache the frozen bottom's activations, standardise the features, train every extractor with
/// checkpoints, evaluate, and write the run folder — `config.json` (`RunRecord`), `results.md`, `metrics.csv`,
/// `accuracy.svg`, `<extractor>.h5` and the activation caches — which `gradfeat eval --run` and `gradfeat report` read.
///
/// Every `gradfeat` command that trains (`train`, `finetune`, `demo`) and every Example is a thin layer over `run`.
public struct Experiment: Sendable {
    public var spec: ExperimentSpec
    public var plugins: Plugins
    /// No progress lines on standard error.
    public var quiet: Bool
    /// The command line recorded in `config.json`.
    public var command: String

    public init(
        _ spec: ExperimentSpec, plugins: Plugins = .shared, quiet: Bool = false,
        command: String = CommandLine.arguments.joined(separator: " ")
    ) {
        self.spec = spec
        self.plugins = plugins
        self.quiet = quiet
        self.command = command
    }

    /// What a run produced.
    public struct Result: Sendable {
        public var rows: [Comparison.Row]
        public var report: ResultsReport
        public var record: RunRecord
        public var directory: RunDirectory

        /// The table and where the files are, as a command or an Example prints it at the end.
        public var summary: String {
            "\n" + report.markdown
                + "\nResults: \(directory.url.path)/results.md, metrics.csv, accuracy.svg, config.json"
        }
    }

    /// Runs the experiment and writes its run folder; the caller shows `Result.summary` if it wants to.
    ///
    /// Under `mpirun` every rank runs it with the same arguments (checked): the ranks share each step's
    /// micro-batches (`micro_batches`, docs/DISTRIBUTED.md), rank 0 alone locks and writes the run folder, and the
    /// others compute the same numbers into a scratch folder of their own, removed at the end.
    @discardableResult
    public func run() throws -> Result {
        try spec.validate(plugins: plugins)
        let world = try Cluster.world()
        let directory = URL(fileURLWithPath: spec.output)
        guard world.size > 1 else {
            let lock = try RunLock(directory)
            defer { withExtendedLifetime(lock) {} }
            return try run(in: directory, communicator: world)
        }
        try checkRanks(world)
        guard world.rank == 0 else { return try runBesideRankZero(world) }
        let lock = try RunLock(directory)
        defer { withExtendedLifetime(lock) {} }
        try world.barrier() // the other ranks have copied the checkpoints they resume from
        return try run(in: directory, communicator: world)
    }

    /// Refuses a job whose ranks were started differently, or that cannot be shared between ranks yet.
    func checkRanks(_ world: any Communicator) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try world.requireAgreement(
            on: String(decoding: try encoder.encode(spec.withAbsolutePaths()), as: UTF8.self),
            what: "the run's configuration")
        if let method = spec.pretrain {
            throw GradFeatError.invalidConfiguration(
                "pre-training (--pretrain \(method.rawValue)) runs in one process: pre-train first with `gradfeat "
                    + "pretrain`, then pass its weights with --weights under mpirun")
        }
    }

    /// A rank other than 0: the same run into a scratch folder (with copies of the checkpoints a resumed run
    /// continues), so that only rank 0 writes the run folder.
    func runBesideRankZero(_ world: any Communicator) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gradfeat-rank\(world.rank)-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        if spec.resume {
            let run = RunDirectory(URL(fileURLWithPath: spec.output))
            for name in spec.extractors.map(\.name) {
                let checkpoint = run.checkpoint(name)
                guard FileManager.default.fileExists(atPath: checkpoint.path) else { continue }
                try FileManager.default.copyItem(
                    at: checkpoint, to: scratch.appendingPathComponent(checkpoint.lastPathComponent))
            }
        }
        try world.barrier()
        var beside = self
        beside.spec.output = scratch.path
        beside.quiet = true
        return try beside.run(in: scratch, communicator: world)
    }

    /// The run, into the locked (or scratch) folder `directory`.
    func run(in directory: URL, communicator: any Communicator) throws -> Result {
        let clock = Date()
        let run = RunDirectory(directory)
        let model = try plugins.models.entry(spec.model)
        var training = spec.training
        if training.evaluateEvery == 0 { training.evaluateEvery = max(1, training.iterations / 10) }
        var layout = try run.layout(
            model: spec.model, record: nil, split: spec.split, linearize: spec.linearize,
            parametrization: spec.parametrization, standardize: spec.standardize)

        let budget = try spec.resolvedMemoryBudget
        var data = try ExperimentData.load(
            spec.data, model: model, seed: training.seed, plugins: plugins, quiet: quiet, budget: budget,
            spillDirectory: directory)
        let views = try data.cropForTestViews(spec.testCrops).map {
            TestViews(crops: spec.testCrops, images: $0.uncroppedTest, side: $0.side, seed: training.seed)
        }
        let (base, weights, pretraining) = try baseNetwork(for: data, in: run)
        if let augmentation = spec.augment {
            // Only images can be augmented: the run trains from them, its split in front of the first layer.
            // `augment` names the first layer too: the split of augmented runs of earlier versions.
            guard let first = base.layerNames.first,
                spec.split == nil || spec.split == first || spec.split == Augmentation.legacySplit
            else {
                throw GradFeatError.invalidConfiguration(
                    "--augment \(augmentation) trains from the images, but --split \(spec.split ?? "") caches the layers "
                        + "before it once, unaugmented; leave --split out (or pass --split \(base.layerNames.first ?? ""))"
                )
            }
            layout.split = first
        }
        guard base.layerNames.contains(layout.split) else {
            throw GradFeatError.unknownLayer(layout.split, model: spec.model, known: base.layerNames)
        }
        if let views {
            // A fixed-size encoder cannot take every crop: say so before anything is cached.
            do { _ = try base.backbone.outputShape(for: Shape([1] + data.train.imageShape.dimensions)) } catch {
                throw GradFeatError.invalidConfiguration(
                    "--test-crops \(views.crops): \(spec.model) cannot take the \(views.side)x\(views.side) crops (7/8 of "
                        + "the \(views.images.imageShape[1])x\(views.images.imageShape[2]) images): \(error); cache the images "
                        + "at 8/7 of the model's input side")
            }
        }

        let (train, test, viewCaches) = try Self.activations(
            in: run, base: base, layout: layout, data: data, views: views, budget: budget,
            batchSize: training.batchSize, quiet: quiet)
        var comparison = Comparison(
            network: base, split: layout.split, linearize: layout.linearize, extractors: spec.extractors.map(\.name),
            configurations: ["activation": training], parametrization: layout.parametrization,
            registry: plugins.extractors, quiet: quiet)
        comparison.options = Dictionary(uniqueKeysWithValues: spec.extractors.map { ($0.name, $0.pluginOptions) })
        comparison.standardizeFeatures = layout.standardize
        comparison.checkpointDirectory = directory
        comparison.resume = spec.resume
        comparison.communicator = communicator
        comparison.testViews = viewCaches
        comparison.augmentation = spec.augment
        comparison.trajectories = try Dictionary(
            spec.extractors.map {
                ($0.name, try Trajectory(spec: resolvedSpec(training), extractor: $0, layout: layout))
            }, uniquingKeysWith: { first, _ in first })
        let omegaBar = try spec.omega.map { path in
            try RunDirectory.omegaBar(
                fromActivationCheckpoint: URL(fileURLWithPath: path),
                network: layout.standardize
                    ? try base.standardizingFeatures(using: train, splitAt: layout.split) : base,
                layout: layout)
        }
        let rows = try comparison.run(
            train: train, test: test, loss: Self.loss(for: try train.allTargets), omegaBar: omegaBar)

        let resolved = resolvedSpec(training)
        let record = RunRecord(
            command: command, model: spec.model, weights: weights, keepInitial: spec.keepInitial,
            inputShape: data.train.imageShape.dimensions, dataset: spec.data.dataset, data: data.description,
            dataDirectory: spec.data.dataDirectory.map(RunRecord.absolutePath), imageSize: spec.data.imageSize,
            trainSize: spec.data.trainSize, testSize: spec.data.testSize, split: layout.split,
            linearize: layout.linearize, parametrization: layout.parametrization.rawValue,
            standardize: layout.standardize, omega: spec.omega.map(RunRecord.absolutePath), seed: training.seed,
            pretraining: pretraining, training: training, extractors: spec.extractors.map(\.name),
            experiment: resolved.withAbsolutePaths())
        let notes = [
            data.description,
            "weights: \(spec.pretrain.map { "pre-trained here by \($0.rawValue), \(spec.pretrainIterations) iterations" } ?? spec.weights ?? "random initialisation")",
            "θ1 = layers before \(layout.split) (cached), θ2 = \(layout.linearize.joined(separator: ", "))",
            training.summary,
            String(format: "total time %.0f s", Date().timeIntervalSince(clock)),
        ]
        let report = ResultsReport(
            title: spec.title ?? "GradFeat on \(spec.data.dataset): \(spec.model)", rows: rows, notes: notes)
        try report.write(to: directory)
        try run.write(record)
        return Result(rows: rows, report: report, record: record, directory: run)
    }

    /// The spec as run: with the training configuration after defaults (`eval_every`) were filled in.
    private func resolvedSpec(_ training: TrainingConfiguration) -> ExperimentSpec {
        var resolved = spec
        resolved.training = training
        return resolved
    }

    /// Only the base network: the spec's data loaded, the network built with its weights and, when the spec says
    /// so, pre-trained and saved as `OUTPUT/weights.h5`. Returns that file (nil when nothing was pre-trained).
    /// Transfer experiments pre-train on one data set this way, then run on others with `weights`.
    public func pretrain() throws -> URL? {
        let directory = URL(fileURLWithPath: spec.output)
        let lock = try RunLock(directory)
        defer { withExtendedLifetime(lock) {} }
        let data = try ExperimentData.load(
            spec.data, model: try plugins.models.entry(spec.model), seed: spec.training.seed, plugins: plugins,
            quiet: quiet)
        return try baseNetwork(for: data, in: RunDirectory(directory)).weights.map { URL(fileURLWithPath: $0) }
    }

    /// The base network for `data`: built with the spec's weights, then pre-trained and saved in `run` when the
    /// spec says so. Returns it with its weights file (absolute; nil: random) and the pre-training configuration.
    func baseNetwork(for data: ExperimentData, in run: RunDirectory) throws
        -> (network: Network, weights: String?, pretraining: TrainingConfiguration?)
    {
        var base = try ModelZoo.make(
            spec.model, classes: data.train.classCount, inputChannels: data.train.imageShape[0],
            inputSize: data.train.imageShape[1], seed: spec.training.seed,
            weights: spec.weights.map { URL(fileURLWithPath: $0) }, keepInitial: spec.keepInitial)
        guard let method = spec.pretrain else { return (base, spec.weights.map(RunRecord.absolutePath), nil) }
        var configuration =
            method == .bigan
            ? BiganPretraining.defaultConfiguration(iterations: spec.pretrainIterations, seed: spec.training.seed)
            : TrainingConfiguration.paper(iterations: spec.pretrainIterations, seed: spec.training.seed)
        configuration.batchSize = spec.pretrainBatchSize
        if !quiet { Log.note("pre-training \(spec.model) by \(method.rawValue) on \(data.train.count) images") }
        switch method {
        case .rotation:
            base.backbone = try Pretraining.rotation(
                base, images: data.train, configuration: configuration,
                quiet: quiet
            ).network.backbone
        case .supervised:
            base = try Pretraining.supervised(base, on: data.train, configuration: configuration, quiet: quiet).network
        case .autoencoder:
            base.backbone = try Pretraining.autoencoder(
                base, images: data.train, configuration: configuration,
                quiet: quiet
            ).network.backbone
        case .bigan:
            // The run folder is locked. A resumed run continues the folder's BiGAN checkpoint; a fresh run
            // replaces it, as it replaces the folder's models.
            let files = BiganFiles(weights: run.file("weights.h5"))
            if !spec.resume, FileManager.default.fileExists(atPath: files.checkpoint.path) {
                try FileManager.default.removeItem(at: files.checkpoint)
            }
            base.backbone = try Pretraining.bigan(
                base, images: data.train, configuration: configuration, files: files, resume: spec.resume,
                quiet: quiet
            ).network.backbone
        }
        let url = run.file("weights.h5")
        try WeightsFile.save(base, to: url)
        return (base, RunRecord.absolutePath(url.path), configuration)
    }

    /// The loss that fits the targets: softmax cross-entropy, or per-class binary cross-entropy for multi-label data
    /// (a configuration's `loss` key chooses another: `TrainingConfiguration.makeLoss`).
    public static func loss(for targets: Targets) -> any Loss {
        if case .multiLabel = targets { return SigmoidBinaryCrossEntropy() }
        return SoftmaxCrossEntropy()
    }

    /// The test images' views for test-time averaging: view `k` is `images` cropped by `crops` to `side`.
    public struct TestViews: Sendable {
        public var crops: TestCrops
        public var images: any ImageSource
        public var side: Int
        public var seed: UInt64

        public init(crops: TestCrops, images: any ImageSource, side: Int, seed: UInt64) {
            self.crops = crops
            self.images = images
            self.side = side
            self.seed = seed
        }

        /// The run folder's cache role of view `k`: `activations-test-view<k>.h5`.
        public static func role(_ view: Int) -> String { "test-view\(view)" }
    }

    /// The frozen bottom's activations of the training and test images — and of each test view, when `views` are
    /// given — reused from the run folder's caches when their producer matches (whoever wrote them: train,
    /// finetune, demo, an Example or `cache --activations`), else computed and saved. Each cache is held in memory
    /// while `budget` (nil: unbounded) has room for it beside the images, the training set's first; else it is
    /// streamed from its file, `batchSize` rows at a time. Views are cropped one at a time, so only one view's
    /// images are in memory.
    public static func activations(
        in run: RunDirectory, base: Network, layout: RunDirectory.Layout, data: ExperimentData,
        views: TestViews? = nil, budget: MemoryBudget? = nil, batchSize: Int = 256, quiet: Bool
    ) throws -> (train: any BatchSource, test: any BatchSource, views: [any BatchSource]) {
        // The images first: those held, and for those read from their file the batches being read (as uint8, and as
        // the floats they become).
        let images = [data.train, data.test] + (views.map { [$0.images] } ?? [])
        let imageBytes = images.reduce(0) { total, images in
            MemoryLedger.sum(
                total,
                images.isStreamed
                    ? MemoryLedger.streamingBytes(
                        rows: images.count, rowBytes: images.imageShape.count * 5, batchSize: batchSize)
                    : images.residentBytes)
        }
        var ledger = budget.map { MemoryLedger(budget: $0, reserved: imageBytes) }
        // Every placement first, from the activations' row size: a budget too small is refused before hours of
        // caching, not after.
        if var trial = ledger {
            let bottom = try base.bottom(splitAt: layout.split)
            let rowBytes = try ActivationCache.outputShape(of: bottom, for: data.train).count * MemoryLayout<Float>.size
            let counts =
                [("train", data.train.count), ("test", data.test.count)]
                + (0..<(views?.crops.viewCount ?? 0)).map { (TestViews.role($0), data.test.count) }
            for (role, count) in counts {
                _ = try trial.holdsInMemory(
                    run.activationCache(role).lastPathComponent, bytes: MemoryLedger.product(count, rowBytes),
                    streamingBytes: MemoryLedger.streamingBytes(rows: count, rowBytes: rowBytes, batchSize: batchSize))
            }
        }
        func cache(_ images: any ImageSource, role: String, split: String) throws -> any BatchSource {
            let (cache, use) = try run.activations(
                of: images, role: role, split: split, network: base, layer: layout.split, ledger: &ledger,
                batchSize: batchSize, quiet: quiet)
            if !quiet {
                switch use {
                case .reused: Log.note("using cached activations \(run.activationCache(role).path)")
                case let .computed(reason?): Log.note("rebuilt \(run.activationCache(role).path): \(reason)")
                case .computed(nil): break
                }
                if cache.isStreamed, let budget {
                    Log.note(
                        "streaming \(run.activationCache(role).lastPathComponent) from disk: it does not fit "
                            + "in --memory-budget \(budget) beside what is held")
                }
            }
            return cache
        }
        let train = try cache(data.train, role: "train", split: data.trainSplit)
        let test = try cache(data.test, role: "test", split: data.testSplit)
        let viewCaches = try (0..<(views?.crops.viewCount ?? 0)).map { k -> any BatchSource in
            guard let views else { return test }
            let images = views.images.cropped(views.crops, view: k, side: views.side, seed: views.seed)
            return try cache(images, role: TestViews.role(k), split: data.testSplit)
        }
        return (train, test, viewCaches)
    }
}

extension ExperimentSpec {
    /// The spec with its file paths absolute, as run records keep them (so a run is found from any folder).
    public func withAbsolutePaths() -> ExperimentSpec {
        var copy = self
        func absolute(_ path: String) -> String { RunRecord.absolutePath(path) }
        if DataSpec.isCacheFile(copy.data.dataset) { copy.data.dataset = absolute(copy.data.dataset) }
        copy.data.testDataset = copy.data.testDataset.map(absolute)
        copy.data.dataDirectory = copy.data.dataDirectory.map(absolute)
        copy.weights = copy.weights.map(absolute)
        copy.omega = copy.omega.map(absolute)
        copy.output = absolute(copy.output)
        return copy
    }
}
