import Foundation
import Layers
import Tensor

/// The folder a run of `gradfeat train`, `finetune` or `demo` writes, and the way back from it to trained models.
///
/// What it holds:
/// - `config.json`: the `RunRecord` (model, weights, layers, parametrization, data, training configuration);
/// - `<extractor>.h5`: one `CheckpointFile` per trained extractor (`activation.h5` gives the others ω̄);
/// - `activations-train.h5`, `activations-test.h5`: the frozen bottom's activations (`ActivationCacheFile`); the
///   training one also gives the statistics the features were standardised with;
/// - `results.md`, `metrics.csv`, `accuracy.svg` (`ResultsReport`), and `eval.md`, `eval.json` from
///   `gradfeat eval --run`.
///
/// An extractor is rebuilt as training built it, in three steps:
/// 1. `layout(model:record:…)`: the split, linearized layers, parametrization and standardisation — options over
///    `config.json` over the model's defaults;
/// 2. `featureNetwork(_:layout:statistics:)`: the base network with the standardisation training measured;
/// 3. `rebuild(checkpoint:network:layout:record:…)`: ω̄ from where training took it, then the checkpoint's parameters.
///
/// Every failure is a `RunDirectory.Error` naming the file and what to do.
public struct RunDirectory: Sendable {
    /// The run record's file name.
    public static let recordName = "config.json"

    /// The folder.
    public let url: URL

    /// The run folder at `url` (nothing is read or created until asked).
    public init(_ url: URL) { self.url = url.standardizedFileURL }

    /// The run folder holding `file` (a checkpoint, say).
    public init(containing file: URL) { self.init(file.deletingLastPathComponent()) }

    /// A file of the run folder, by name.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The checkpoint of `extractor`: `<extractor>.h5`.
    public func checkpoint(_ extractor: String) -> URL { file("\(extractor).h5") }

    /// The activation cache of the training (`role` "train") or test ("test") images: `activations-<role>.h5`.
    public func activationCache(_ role: String) -> URL { file("activations-\(role).h5") }

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// A run folder that is missing a file or holds one that does not fit.
    public enum Error: Swift.Error, CustomStringConvertible, Sendable, Equatable {
        /// `path` should be there; `fix` says how to get it or do without it.
        case missingFile(path: String, fix: String)
        /// `path` is there but does not fit: `problem` says how, `fix` what to do.
        case mismatch(path: String, problem: String, fix: String)

        public var description: String {
            switch self {
            case let .missingFile(path, fix): return "\(path): no such file; \(fix)"
            case let .mismatch(path, problem, fix): return "\(path): \(problem); \(fix)"
            }
        }
    }

    // MARK: - config.json

    /// The run record; throws when `config.json` is missing or unreadable.
    public func record() throws -> RunRecord {
        guard let record = try recordIfPresent() else {
            throw Error.missingFile(
                path: file(Self.recordName).path,
                fix:
                    "pass a folder written by `gradfeat train`, `gradfeat finetune` or `gradfeat demo` (their --output)"
            )
        }
        return record
    }

    /// The run record, or nil when the folder has no `config.json` (a checkpoint copied elsewhere, say).
    public func recordIfPresent() throws -> RunRecord? {
        let url = file(Self.recordName)
        guard Self.exists(url) else { return nil }
        do {
            return try JSONDecoder().decode(RunRecord.self, from: Data(contentsOf: url))
        } catch {
            throw Error.mismatch(
                path: url.path, problem: "not a run record (\(error))",
                fix: "restore the file the run wrote, or train again into this folder")
        }
    }

    /// Writes `config.json` (pretty, keys sorted, atomically).
    public func write(_ record: RunRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try writeAtomically(
            String(decoding: try encoder.encode(record), as: UTF8.self) + "\n",
            to: file(Self.recordName))
    }

    // MARK: - Layout

    /// Where an extractor sits on its base network, and how its features were prepared.
    public struct Layout: Sendable, Equatable {
        /// The first θ2 layer: the extractor's input is the output of the layers before it.
        public var split: String
        /// The linearized (or fine-tuned) layers.
        public var linearize: [String]
        public var parametrization: Parametrization
        /// Whether the features were standardised with statistics of the training set (`train` does unless
        /// `--no-standardize`).
        public var standardize: Bool

        public init(split: String, linearize: [String], parametrization: Parametrization, standardize: Bool) {
            self.split = split
            self.linearize = linearize
            self.parametrization = parametrization
            self.standardize = standardize
        }
    }

    /// The layout of the run's extractors: each value given here, else `record`'s, else `model`'s default (the
    /// split defaults to the first linearized layer, standardisation to on).
    public func layout(
        model: String, record: RunRecord?, split: String? = nil, linearize: [String]? = nil,
        parametrization: Parametrization? = nil, standardize: Bool? = nil
    ) throws -> Layout {
        let layers = try linearize ?? record?.linearize ?? ModelZoo.defaults(for: model).linearize
        guard let firstLayer = layers.first else {
            throw Error.mismatch(
                path: file(Self.recordName).path, problem: "no linearized layers",
                fix: "name at least one (--linearize conv5)")
        }
        var resolved = parametrization
        if resolved == nil, let raw = record?.parametrization {
            guard let parsed = Parametrization(rawValue: raw) else {
                throw Error.mismatch(
                    path: file(Self.recordName).path,
                    problem: "parametrization '\(raw)' is neither 'ntk' nor 'standard'",
                    fix: "correct it, or pass --parametrization")
            }
            resolved = parsed
        }
        return Layout(
            split: split ?? record?.split ?? firstLayer, linearize: layers,
            parametrization: resolved ?? .default, standardize: standardize ?? record?.standardize ?? true)
    }

    // MARK: - The base network and its features

    /// The base network as the run built it for `classes` classes: the record's model, weights (with its
    /// `keepInitial`), input shape and seed (which initialises what the weights leave out, the head among it).
    public func baseNetwork(_ record: RunRecord, classes: Int) throws -> Network {
        let recordPath = file(Self.recordName).path
        guard let shape = record.inputShape, shape.count == 3 else {
            throw Error.mismatch(
                path: recordPath, problem: "it does not record the input shape (an older gradfeat wrote it)",
                fix: "train again into this folder, or use `gradfeat predict --checkpoint` with --model and --weights")
        }
        if let weights = record.weights, !Self.exists(URL(fileURLWithPath: weights)) {
            throw Error.missingFile(
                path: weights,
                fix: "the run's base network was loaded from it: put it back, or correct 'weights' in \(recordPath)")
        }
        var network = try ModelZoo.make(
            record.model, classes: classes, inputChannels: shape[0], inputSize: shape[1], seed: record.seed,
            weights: record.weights.map { URL(fileURLWithPath: $0) }, keepInitial: record.keepInitial ?? [])
        if record.split == Augmentation.legacySplit {
            // Augmented runs of earlier versions split at a layer in front of the network, the identity in evaluation.
            network.backbone.layers.insert(NamedLayer(Augmentation.legacySplit, RandomCropFlip()), at: 0)
        }
        return network
    }

    /// Opens the activation cache at `url`, streamed, after checking that it holds `network`'s activations at
    /// `layer`: same layer, same bottom weights. `fix` says what to do when the file is missing.
    public func verifiedActivations(_ url: URL, network: Network, layer: String, fix: String) throws
        -> ActivationCacheReader
    {
        guard Self.exists(url) else { throw Error.missingFile(path: url.path, fix: fix) }
        let reader = try ActivationCacheReader(url)
        let expected = try ActivationCacheFile.Producer.weightsHash(of: network, below: layer)
        guard reader.producer.layer == layer, reader.producer.weightsHash == expected else {
            throw Error.mismatch(
                path: url.path,
                problem:
                    "it holds activations at layer '\(reader.producer.layer)' of bottom weights \(reader.producer.weightsHash), "
                    + "but the extractor needs layer '\(layer)' of bottom weights \(expected)",
                fix: "use the run's own weights and layers, or delete the cache and train again to rebuild it")
        }
        return reader
    }

    /// `base` as the extractors saw it: with the frozen standardisation layer `norm` measured on the training
    /// activations (`statistics`, default `activations-train.h5`) when `layout.standardize`.
    public func featureNetwork(_ base: Network, layout: Layout, statistics: URL? = nil) throws -> Network {
        guard layout.standardize, !base.layerNames.contains("norm") else { return base }
        let reader = try verifiedActivations(
            statistics ?? activationCache("train"), network: base, layer: layout.split,
            fix: "training standardised the features with statistics of the training activations: keep "
                + "\(activationCache("train").lastPathComponent) in the run folder, pass --standardize-from with a "
                + "copy, or --no-standardize if the run was trained with it")
        return try base.standardizingFeatures(using: reader, splitAt: layout.split)
    }

    // MARK: - ω̄ and the trained extractors

    /// The activation model's checkpoint that gave `extractor` its ω̄: `explicit` when given; else, when the record
    /// lists the extractor, `activation.h5` if the activation model was trained before it in the run, else the
    /// record's `omega` (nil: ω̄ was the base network's head); else `activation.h5` when present.
    public func omegaBarCheckpoint(for extractor: String, record: RunRecord?, explicit: URL? = nil) -> URL? {
        if let explicit { return explicit }
        let activation = checkpoint("activation")
        if let record, let position = record.extractors.firstIndex(of: extractor) {
            if let trained = record.extractors.firstIndex(of: "activation"), trained < position { return activation }
            return record.omega.map { URL(fileURLWithPath: $0) }
        }
        return extractor != "activation" && Self.exists(activation) ? activation : nil
    }

    /// ω̄: the head of the activation model whose checkpoint is `url`, on `network` (as `featureNetwork` made it).
    public static func omegaBar(fromActivationCheckpoint url: URL, network: Network, layout: Layout) throws
        -> LinearHead
    {
        guard exists(url) else {
            throw Error.missingFile(
                path: url.path,
                fix:
                    "ω̄ is the head of a trained activation model: train --extractor activation first, or pass its checkpoint (--omega)"
            )
        }
        let (state, name) = try CheckpointFile.load(url)
        guard name == "activation" else {
            throw Error.mismatch(
                path: url.path, problem: "it is a checkpoint of '\(name)', not of the activation model",
                fix: "pass the activation model's checkpoint (OUTPUT/activation.h5)")
        }
        var activation = try ActivationFeatures(
            network: network, splitAt: layout.split, classes: network.classCount, seed: 0,
            parametrization: layout.parametrization)
        guard state.parameters.map(\.shape) == activation.parameters.map(\.shape) else {
            throw Error.mismatch(
                path: url.path,
                problem:
                    "its head has shapes \(state.parameters.map(\.shape.dimensions)), not those of \(network.classCount) "
                    + "classes on \(network.featureCount) features",
                fix: "pass the activation checkpoint of this task and base network")
        }
        activation.parameters = state.parameters
        return activation.head
    }

    /// An extractor rebuilt from its checkpoint, ready to run on the activations of its bottom.
    public struct TrainedExtractor: Sendable {
        public var name: String
        public var extractor: any FeatureExtractor
        /// The network the extractor was built on (with `norm` when training standardised), and its layout.
        public var network: Network
        public var layout: Layout
        /// Where ω̄ came from (a checkpoint's path, or "the base network's head"); nil when the extractor has none.
        public var omegaBarSource: String?
        /// The checkpoint's state: iterations completed, training history.
        public var state: TrainingState

        /// The frozen bottom θ1, which turns images into the extractor's input.
        public func bottom() throws -> Sequential { try network.bottom(splitAt: layout.split) }
    }

    /// Rebuilds the extractor of the checkpoint at `checkpointURL` on `network` (from `featureNetwork`, built for the
    /// task's classes). ω̄, for the extractors that need it, is the head of `omegaBarCheckpoint(for:record:explicit:)`
    /// (with `omega` as the explicit one), else `fallbackOmegaBar` — what training used then: the base network's
    /// head when it had the task's classes.
    public func rebuild(
        checkpoint checkpointURL: URL, network: Network, layout: Layout, record: RunRecord?, omega: URL? = nil,
        fallbackOmegaBar: LinearHead? = nil, registry: ExtractorRegistry = Plugins.shared.extractors
    ) throws -> TrainedExtractor {
        guard Self.exists(checkpointURL) else {
            throw Error.missingFile(
                path: checkpointURL.path,
                fix:
                    "train that extractor into this folder first (`gradfeat train --extractor NAME --output \(url.path)`)"
            )
        }
        let (state, name) = try CheckpointFile.load(checkpointURL)
        // A checkpoint from another configuration (a second run into the folder, a copied file) would be scored
        // under this record's data and layers, silently: refuse it, naming the key.
        if let recorded = state.trajectory, let spec = record?.experiment,
            let extractorSpec = spec.extractors.first(where: { $0.name == name }),
            let differences = try Trajectory(spec: spec, extractor: extractorSpec, layout: layout).differences(
                from: recorded, mine: url.appendingPathComponent(Self.recordName).path, theirs: checkpointURL.path)
        {
            throw Error.mismatch(
                path: checkpointURL.path,
                problem: "it was not trained by the run that config.json records: \(differences)",
                fix: "keep each run in its own folder (--output), or pass the options it was trained with")
        }
        var omegaBar: LinearHead?
        var omegaBarSource: String?
        if try registry.entry(name).needsOmegaBar {
            if let source = omegaBarCheckpoint(for: name, record: record, explicit: omega) {
                omegaBar = try Self.omegaBar(fromActivationCheckpoint: source, network: network, layout: layout)
                omegaBarSource = source.path
            } else if let fallbackOmegaBar {
                omegaBar = fallbackOmegaBar
                omegaBarSource = "the base network's head"
            } else {
                throw Error.missingFile(
                    path: checkpoint("activation").path,
                    fix: "'\(name)' needs ω̄, the head of the trained activation model: keep activation.h5 beside "
                        + "\(checkpointURL.lastPathComponent), or pass its checkpoint (--omega)")
            }
        }
        let context = ExtractorContext(
            network: network, split: layout.split, linearize: layout.linearize, classes: network.classCount,
            omegaBar: omegaBar, seed: 0, parametrization: layout.parametrization)
        let options = record?.experiment?.extractors.first { $0.name == name }.map { PluginOptions($0.options) }
        var extractor = try registry.make(name, context: context, options: options ?? PluginOptions())
        guard extractor.parameterNames == state.parameterNames,
            extractor.parameters.map(\.shape) == state.parameters.map(\.shape)
        else {
            throw Error.mismatch(
                path: checkpointURL.path,
                problem:
                    "its parameters (\(state.parameterNames.joined(separator: ", "))) do not fit '\(name)' with split "
                    + "\(layout.split), linearized \(layout.linearize.joined(separator: ",")), \(network.classCount) classes",
                fix:
                    "pass the layers and parametrization the run was trained with (--split, --linearize, --parametrization)"
            )
        }
        extractor.parameters = state.parameters
        return TrainedExtractor(
            name: name, extractor: extractor, network: network, layout: layout,
            omegaBarSource: omegaBarSource, state: state)
    }

    // MARK: - Activation caches

    /// How `activations(of:role:split:network:layer:quiet:)` got its activations.
    public enum CacheUse: Sendable, Equatable {
        /// Read from the run folder's cache.
        case reused
        /// Computed (and saved); `reason` says why the cache there was not used, if there was one.
        case computed(reason: String?)
    }

    /// The frozen bottom's activations of `images` at `layer`, from `activations-<role>.h5` when its producer
    /// matches, else computed into it (streamed: one batch of images at a time). The producer is
    /// `ActivationCacheFile.Producer(network:layer:split:images:)` — model, bottom weights, layer, split, the images
    /// by content, scaling — so a cache written by any command for the same network and data (`train`, `finetune`,
    /// `demo`, `cache --activations`) is reused.
    ///
    /// The cache is read into memory when `ledger` has room for it (nil: always), else streamed from the file with
    /// `batchSize` rows at a time.
    public func activations(
        of images: some ImageSource, role: String, split: String, network: Network, layer: String,
        ledger: inout MemoryLedger?, batchSize: Int = 256, quiet: Bool = false
    ) throws -> (cache: any BatchSource, use: CacheUse) {
        let cacheURL = activationCache(role)
        let producer = try ActivationCacheFile.Producer(network: network, layer: layer, split: split, images: images)
        func placed(_ reader: ActivationCacheReader) throws -> any BatchSource {
            // Decide on a copy and charge the ledger only once the cache is placed: a load that fails (and a cache
            // computed again after it) must not be charged twice.
            var decided = ledger
            let inMemory =
                try decided?.holdsInMemory(
                    "\(cacheURL.lastPathComponent)", bytes: MemoryLedger.product(reader.count, reader.rowBytes),
                    streamingBytes: MemoryLedger.streamingBytes(
                        rows: reader.count, rowBytes: reader.rowBytes,
                        batchSize: batchSize)) ?? true
            let source: any BatchSource = inMemory ? try reader.loadedIntoMemory() : reader
            ledger = decided
            return source
        }
        var reason: String?
        if Self.exists(cacheURL) {
            do {
                let reader = try ActivationCacheReader(cacheURL, expecting: producer)
                return (try placed(reader), .reused)
            } catch let error where !(error is MemoryLedger.Refusal) {
                reason = "\(error)"
            }
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try ActivationCache.write(
            network: network, splitAt: layer, data: images, producer: producer, to: cacheURL, label: "cache \(role)",
            quiet: quiet)
        return (try placed(ActivationCacheReader(cacheURL, expecting: producer)), .computed(reason: reason))
    }
}
