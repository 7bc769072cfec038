import ArgumentParser
import Foundation
import GradFeat
import Layers

/// Where data comes from. Every option here is a config-file key of the same name (`--data-dir` is `data_dir`);
/// one given here wins over the file's and the defaults'.
struct DataOptions: ParsableArguments {
    @Option(
        help:
            "Data set: a registered one (\(DataCatalog.names.joined(separator: ", ")); `gradfeat list`) or a data-set cache TRAIN.h5 written by `gradfeat cache`.",
        completion: RegistryCompletion.datasets)
    var dataset: String?

    @Option(
        help:
            "A data-set cache of test images, with --dataset TRAIN.h5 (default: hold out --test-fraction of TRAIN.h5).")
    var testDataset: String?

    @Option(
        parsing: .unconditional,
        help:
            "The seeded fraction of --dataset TRAIN.h5 held out as the test set when no --test-dataset is given (default 0.2)."
    )
    var testFraction: Double?

    @Option(help: "Folder holding the data (default: $GRADFEAT_DATA_DIR, else ../shared/datasets when present).")
    var dataDir: String?

    @Option(
        parsing: .unconditional,
        help: "Side of the images for data sets of varied sizes (VOC2007, COCO): they are resized to it (default 64).")
    var imageSize: Int?

    @Option(parsing: .unconditional, help: "Use only this many training images (a quick run); 0 means all.")
    var trainSize: Int?

    @Option(parsing: .unconditional, help: "Use only this many test images; 0 means all.")
    var testSize: Int?

    func apply(to layer: inout ConfigLayer) {
        layer.setIfGiven("dataset", dataset.map(ConfigValue.string), "--dataset")
        layer.setIfGiven("test_dataset", testDataset.map(ConfigValue.string), "--test-dataset")
        layer.setIfGiven("test_fraction", testFraction.map(ConfigValue.double), "--test-fraction")
        layer.setIfGiven("data_dir", dataDir.map(ConfigValue.string), "--data-dir")
        layer.setIfGiven("image_size", imageSize.map { .int(Int64($0)) }, "--image-size")
        layer.setIfGiven("train_size", trainSize.map { .int(Int64($0)) }, "--train-size")
        layer.setIfGiven("test_size", testSize.map { .int(Int64($0)) }, "--test-size")
    }
}

/// How models are trained: the optimiser keys of the released PyTorch code, over a preset and a config file.
struct TrainingOptions: ParsableArguments {
    @Option(
        help:
            "A config file, JSON (.json) or YAML (.yaml, .yml), with the keys of these options (optim, lr, wd, batchsize, niter, model, dataset, mode, …; `docs/CONFIG.md`) laid over --preset; command-line options override it."
    )
    var config: String?

    @Option(
        help:
            "Optimiser preset: 'paper' (Adam β1 0.5, lr 1e-3 halved every 20K, wd 1e-6, batch 64; the default), 'paper-full' (the same for the paper's 80K iterations, evaluating and checkpointing every 2K) or 'released' (SGD 0.9, lr 0.1, clip 10)."
    )
    var preset: String?

    @Option(help: "Optimiser: adam or sgd (overrides the preset).")
    var optim: String?

    @Option(name: .customLong("niter"), parsing: .unconditional, help: "Training iterations per model.")
    var iterations: Int?

    @Option(name: .customLong("batchsize"), parsing: .unconditional, help: "Mini-batch size (overrides the preset).")
    var batchSize: Int?

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Learning rate (overrides the preset).")
    var learningRate: Double?

    @Option(
        name: .customLong("wd"), parsing: .unconditional,
        help:
            "Weight decay λ (overrides the preset), or 'auto': chosen on a held-out tenth of the training set (--solver cg or lbfgs)."
    )
    var weightDecay: String?

    @Option(
        help:
            "Loss: ce (softmax cross-entropy), bce (per-class binary cross-entropy) or mse (squared error to one-hot targets; LQF's). Default: ce, or bce for multi-label data."
    )
    var loss: String?

    @Option(
        parsing: .unconditional, help: "The MSE loss's targets are this times the one-hot (or 0/1) vectors (default 1)."
    )
    var targetScale: Double?

    @Option(
        help:
            "How the parameters are fitted: minibatch (--optim adam or sgd; the default), cg (conjugate gradient to the exact optimum of the MSE objective, linear models) or lbfgs (full-batch L-BFGS)."
    )
    var solver: String?

    @Option(
        name: .customLong("tol"), parsing: .unconditional,
        help: "The solvers stop at this relative residual (cg) or relative gradient norm (lbfgs); default 1e-6.")
    var tolerance: Double?

    @Option(
        help:
            "Conjugate gradient's preconditioner: none (default) or jacobi (diagonal estimated by --probes Hutchinson probes)."
    )
    var preconditioner: String?

    @Option(
        parsing: .unconditional,
        help: "Hutchinson probes (passes over the data) for --preconditioner jacobi (default 8).")
    var probes: Int?

    @Option(
        parsing: .unconditional,
        help:
            "Step pairs L-BFGS keeps (default 10; each costs two parameter-sized Float64 vectors in memory and in checkpoints)."
    )
    var lbfgsMemory: Int?

    @Option(parsing: .unconditional, help: "SGD momentum.")
    var momentum: Double?

    @Option(
        parsing: .unconditional,
        help:
            "Cut each mini-batch into this many fixed micro-batches summed in order (default 1); under mpirun the ranks share them and the parameters are the same bits for any number of ranks up to it (docs/DISTRIBUTED.md)."
    )
    var microBatches: Int?

    @Option(
        name: .customLong("stepsize"), parsing: .unconditional,
        help: "Multiply the learning rate by --stepfactor (default 0.5) every this many iterations.")
    var stepSize: Int?

    @Option(name: .customLong("stepfactor"), parsing: .unconditional, help: "The step schedule's factor.")
    var stepFactor: Double?

    @Option(parsing: .unconditional, help: "Clip the gradient norm at this value.")
    var clip: Double?

    @Option(
        parsing: .unconditional,
        help: "Evaluate on the test set every this many iterations (default: a tenth of --niter).")
    var evalEvery: Int?

    @Option(parsing: .unconditional, help: "Write a checkpoint every this many iterations (0: at the end only).")
    var checkpointEvery: Int?

    @Option(parsing: .unconditional, help: "Random seed: every run is reproducible from it (default 0).")
    var seed: UInt64?

    /// The `--config` file's keys, or none.
    func fileLayer() throws -> ConfigLayer {
        try config.map { try ConfigLayer.file(URL(fileURLWithPath: $0)) } ?? ConfigLayer()
    }

    func apply(to layer: inout ConfigLayer) {
        layer.setIfGiven("preset", preset.map(ConfigValue.string), "--preset")
        layer.setIfGiven("optim", optim.map(ConfigValue.string), "--optim")
        layer.setIfGiven("niter", iterations.map { .int(Int64($0)) }, "--niter")
        layer.setIfGiven("batchsize", batchSize.map { .int(Int64($0)) }, "--batchsize")
        layer.setIfGiven("lr", learningRate.map(ConfigValue.double), "--lr")
        layer.setIfGiven("wd", weightDecay.map { Double($0).map(ConfigValue.double) ?? .string($0) }, "--wd")
        layer.setIfGiven("loss", loss.map(ConfigValue.string), "--loss")
        layer.setIfGiven("target_scale", targetScale.map(ConfigValue.double), "--target-scale")
        layer.setIfGiven("solver", solver.map(ConfigValue.string), "--solver")
        layer.setIfGiven("tol", tolerance.map(ConfigValue.double), "--tol")
        layer.setIfGiven("preconditioner", preconditioner.map(ConfigValue.string), "--preconditioner")
        layer.setIfGiven("probes", probes.map { .int(Int64($0)) }, "--probes")
        layer.setIfGiven("lbfgs_memory", lbfgsMemory.map { .int(Int64($0)) }, "--lbfgs-memory")
        layer.setIfGiven("micro_batches", microBatches.map { .int(Int64($0)) }, "--micro-batches")
        layer.setIfGiven("momentum", momentum.map(ConfigValue.double), "--momentum")
        layer.setIfGiven("stepsize", stepSize.map { .int(Int64($0)) }, "--stepsize")
        layer.setIfGiven("stepfactor", stepFactor.map(ConfigValue.double), "--stepfactor")
        layer.setIfGiven("clip", clip.map(ConfigValue.double), "--clip")
        layer.setIfGiven("eval_every", evalEvery.map { .int(Int64($0)) }, "--eval-every")
        layer.setIfGiven("checkpoint_every", checkpointEvery.map { .int(Int64($0)) }, "--checkpoint-every")
        layer.setIfGiven("seed", seed.map { .int(Int64(truncatingIfNeeded: $0)) }, "--seed")
    }
}

/// The extractors' layout and the run folder.
struct RunOptions: ParsableArguments {
    @Option(help: "Layers to linearize (and fine-tune), comma-separated (default: the model's).")
    var linearize: String?

    @Option(help: "The first θ2 layer; the cache holds its input (default: the first linearized layer).")
    var split: String?

    @Option(help: "Parametrization of the trained layers: ntk (the authors'; the default) or standard.")
    var parametrization: String?

    @Flag(help: "Do not standardise the features before the heads.")
    var noStandardize = false

    @Option(
        help:
            "Checkpoint of a trained activation model whose head is ω̄ (when 'activation' is not trained here); fine-tuning starts its head from it."
    )
    var omega: String?

    @Option(
        help:
            "Pre-train the base network here first: rotation, autoencoder or bigan (no labels), or supervised; its weights go to OUTPUT/weights.h5 (bigan checkpoints and sample grids beside them, resumed with the run)."
    )
    var pretrain: String?

    @Option(parsing: .unconditional, help: "Pre-training iterations (batch --pretrain-batchsize, default 128).")
    var pretrainIterations: Int?

    @Option(name: .customLong("pretrain-batchsize"), parsing: .unconditional, help: "Pre-training mini-batch size.")
    var pretrainBatchSize: Int?

    @Option(
        name: .customLong("extractor-option"),
        help: "An extractor's own option, NAME.KEY=VALUE (repeatable), e.g. random-features.width=512.")
    var extractorOptions: [String] = []

    @Option(help: "Folder for caches, checkpoints and results (default: runs/<command>).")
    var output: String?

    @Flag(help: "Continue from the checkpoints in the output folder.")
    var resume = false

    @Option(
        help:
            "Average each model's test predictions over crops: none (the default), ten (torchvision's TenCrop: corners, centre and their mirror images) or random:N (N seeded random crops); crops are 7/8 of the image side, and training images are centre-cropped to it (cache images at 8/7 of the model's input, --image-size 256 for 224)."
    )
    var testCrops: String?

    @Option(
        help:
            "Train-time augmentation of the images: crop:P,flip (a random crop from the image padded by P zeros, then a mirror image with probability 1/2; crop:4,flip is CIFAR's), crop:P, flip or none. The run trains from the images (its split is in front of the first layer)."
    )
    var augment: String?

    @Option(
        help:
            "Memory for the data and activation caches, in binary units (512MB = 512 MiB, 4GB); a cache that does not fit beside the images is streamed from its file, with the same result (default: half of physical memory)."
    )
    var memoryBudget: String?

    @Flag(help: "Print no progress.")
    var quiet = false

    func apply(to layer: inout ConfigLayer) {
        layer.setIfGiven("linearize", linearize.map(ConfigValue.string), "--linearize")
        layer.setIfGiven("split", split.map(ConfigValue.string), "--split")
        layer.setIfGiven("parametrization", parametrization.map(ConfigValue.string), "--parametrization")
        if noStandardize { layer.set("standardize", .bool(false), origin: "option --no-standardize") }
        layer.setIfGiven("omega", omega.map(ConfigValue.string), "--omega")
        layer.setIfGiven("pretrain", pretrain.map(ConfigValue.string), "--pretrain")
        layer.setIfGiven("pretrain_niter", pretrainIterations.map { .int(Int64($0)) }, "--pretrain-iterations")
        layer.setIfGiven("pretrain_batchsize", pretrainBatchSize.map { .int(Int64($0)) }, "--pretrain-batchsize")
        layer.setIfGiven("output", output.map(ConfigValue.string), "--output")
        if resume { layer.set("resume", .bool(true), origin: "option --resume") }
        layer.setIfGiven("memory_budget", memoryBudget.map(ConfigValue.string), "--memory-budget")
        layer.setIfGiven("test_crops", testCrops.map(ConfigValue.string), "--test-crops")
        layer.setIfGiven("augment", augment.map(ConfigValue.string), "--augment")
    }

    /// `spec` with each `--extractor-option NAME.KEY=VALUE` added to the options of the extractor NAME.
    func applyExtractorOptions(to spec: inout ExperimentSpec) throws {
        for option in extractorOptions {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let path = parts.first?.split(separator: ".", maxSplits: 1).map(String.init) ?? []
            guard parts.count == 2, path.count == 2, !path[1].isEmpty else {
                throw ValidationError(
                    "--extractor-option '\(option)' is not NAME.KEY=VALUE (e.g. random-features.width=512)")
            }
            guard let index = spec.extractors.firstIndex(where: { $0.name == path[0] }) else {
                throw ValidationError(
                    "--extractor-option '\(option)': '\(path[0])' is not among the extractors trained here "
                        + "(\(spec.extractors.map(\.name).joined(separator: ", ")))")
            }
            spec.extractors[index].options[path[1]] = ConfigValue(commandLine: parts[1])
            spec.extractors[index].origins[path[1]] = "option --extractor-option \(option)"
        }
    }
}

/// An experiment command's options — data, network, training, run — resolved into one `ExperimentSpec`.
struct ExperimentOptions: ParsableArguments {
    @OptionGroup var data: DataOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var run: RunOptions

    /// The spec: `defaults` under the preset, then the config file, then the options given here, key by key.
    /// `extractors`, when given, is the `--extractor` option's value; `fixedExtractors` the command's own (finetune).
    func spec(defaults: ExperimentSpec, extractors: String? = nil, fixedExtractors: [String]? = nil) throws
        -> ExperimentSpec
    {
        let file = try training.fileLayer()
        var commandLine = ConfigLayer.given(data: data, network: network, training: training)
        run.apply(to: &commandLine)
        commandLine.setIfGiven("mode", extractors.map(ConfigValue.string), "--extractor")
        if let fixedExtractors {
            if file.values["mode"] != nil {
                throw ValidationError(
                    "config file \(training.config ?? ""): 'mode' does not apply to this command, which trains "
                        + "\(fixedExtractors.joined(separator: ", ")); remove it, or use `gradfeat train`")
            }
            commandLine.set("mode", .array(fixedExtractors.map(ConfigValue.string)), origin: "the command")
        }
        var spec = try ExperimentSpec.resolve(defaults: defaults, file: file, commandLine: commandLine)
        try run.applyExtractorOptions(to: &spec)
        return spec
    }
}

extension ConfigLayer {
    /// The keys the data, network and training options given on the command line set.
    static func given(data: DataOptions, network: NetworkOptions, training: TrainingOptions) -> ConfigLayer {
        var layer = ConfigLayer()
        data.apply(to: &layer)
        network.apply(to: &layer)
        training.apply(to: &layer)
        return layer
    }

    /// Sets `key` when the option was given (`value` not nil), noting the option as its origin.
    mutating func setIfGiven(_ key: String, _ value: ConfigValue?, _ option: String) {
        if let value { set(key, value, origin: "option \(option)") }
    }
}

/// Writes `value` as pretty JSON, atomically.
func writeJSON(_ value: some Encodable, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n", to: url)
}

/// A sentence for the person running the command, through the logger (standard error).
func note(_ message: String) { Log.note(message) }

/// The names in a comma-separated option value (`--extractor activation, gradfeat`, `--linearize conv4,conv5`),
/// trimmed, empty entries dropped.
func commaSeparatedNames(_ text: String) -> [String] { ExperimentSpec.commaSeparated(text) }
