import Datasets
import Foundation
import GradFeat
import Layers
import Tensor
import Testing

/// Run folders: rebuilding trained extractors from them, their refusals, and reusing their activation caches.
@Suite struct RunDirectoryTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small comparison trained into a run folder as `gradfeat train` writes it: checkpoints, the training
    /// activations (for the standardisation statistics) and config.json.
    static func trainedRun(extractors: [String]) throws
        -> (run: RunDirectory, network: Network, test: InMemoryBatches, rows: [Comparison.Row])
    {
        let run = RunDirectory(try temporaryDirectory())
        let network = GradFeatModelTests.smallNetwork(seed: 1)
        func images(_ n: Int, seed: UInt64) throws -> InMemoryBatches {
            try InMemoryBatches(
                inputs: GradFeatModelTests.input(n, seed: seed), targets: .classes((0..<n).map { $0 % 3 }),
                classCount: 3)
        }
        let train = try ActivationCache.compute(
            network: network, splitAt: "block", data: try images(40, seed: 3), quiet: true)
        let test = try ActivationCache.compute(
            network: network, splitAt: "block", data: try images(20, seed: 4), quiet: true)
        try ActivationCacheFile.save(
            train,
            producer: try ActivationCacheFile.Producer(
                network: network, layer: "block", split: "train", source: "synthetic", transform: "unit"),
            to: run.activationCache("train"))
        let configuration = TrainingConfiguration(
            optimizer: .adam, learningRate: 0.01, weightDecay: 0, batchSize: 8, iterations: 6, stepSize: 0,
            evaluateEvery: 3, seed: 5)
        var comparison = Comparison(
            network: network, split: "block", linearize: ["block", "conv3"], extractors: extractors,
            configurations: ["activation": configuration], quiet: true)
        comparison.checkpointDirectory = run.url
        let rows = try comparison.run(train: train, test: test, loss: SoftmaxCrossEntropy())
        try run.write(
            RunRecord(
                command: "test", model: network.modelName, weights: nil, inputShape: [3, 9, 9], dataset: "synthetic",
                data: "40 train / 20 test images", split: "block", linearize: ["block", "conv3"],
                parametrization: Parametrization.default.rawValue, standardize: true, seed: 5, training: configuration,
                extractors: extractors))
        return (run, network, test, rows)
    }

    @Test func rebuiltExtractorsPredictAsTrained() throws {
        let names = ["activation", "gradient", "gradfeat", "finetune"]
        let (run, network, test, rows) = try Self.trainedRun(extractors: names)
        defer { try? FileManager.default.removeItem(at: run.url) }
        let record = try run.record()
        #expect(record.extractors == names)
        let layout = try run.layout(model: record.model, record: record)
        #expect(
            layout
                == RunDirectory.Layout(
                    split: "block", linearize: ["block", "conv3"], parametrization: .default,
                    standardize: true))
        let features = try run.featureNetwork(network, layout: layout)
        #expect(features.layerNames.last == "norm")
        let evaluator = Evaluator()
        for (name, row) in zip(names, rows) {
            let trained = try run.rebuild(
                checkpoint: run.checkpoint(name), network: features, layout: layout, record: record,
                fallbackOmegaBar: network.head)
            #expect(trained.name == name && trained.state.iteration == 6)
            #expect(trained.omegaBarSource == (name == "activation" ? nil : run.checkpoint("activation").path))
            // The same logits as the trained model: its test metrics (accuracy, confusion, loss) to the last bit.
            let metrics = try evaluator.evaluate(trained.extractor, on: test, loss: SoftmaxCrossEntropy())
            #expect(metrics == row.metrics, "\(name): \(metrics) vs \(row.metrics)")
            // …and not those of the untrained model.
            let initial = try ExtractorRegistry.shared.make(
                name,
                context: ExtractorContext(
                    network: features, split: "block", linearize: ["block", "conv3"], classes: 3,
                    omegaBar: features.head))
            #expect(try evaluator.logits(initial, on: test) != evaluator.logits(trained.extractor, on: test))
        }
    }

    @Test func missingOrMismatchedFilesAreNamedWithTheFix() throws {
        let (run, network, _, _) = try Self.trainedRun(extractors: ["activation", "gradfeat"])
        defer { try? FileManager.default.removeItem(at: run.url) }
        let record = try run.record()
        let layout = try run.layout(model: record.model, record: record)
        let features = try run.featureNetwork(network, layout: layout)

        // Other layers than training's: the checkpoint does not fit.
        var other = layout
        other.linearize = ["conv3"]
        let mismatch = #expect(throws: RunDirectory.Error.self) {
            try run.rebuild(checkpoint: run.checkpoint("gradfeat"), network: features, layout: other, record: record)
        }
        #expect(mismatch?.description.contains("gradfeat.h5") == true)
        #expect(mismatch?.description.contains("--linearize") == true)

        // Another network's bottom: its activations are refused.
        let otherNetwork = GradFeatModelTests.smallNetwork(seed: 2)
        let weights = #expect(throws: RunDirectory.Error.self) { try run.featureNetwork(otherNetwork, layout: layout) }
        #expect(weights?.description.contains("activations-train.h5") == true)

        // ω̄'s checkpoint gone.
        try FileManager.default.removeItem(at: run.checkpoint("activation"))
        let omega = #expect(throws: RunDirectory.Error.self) {
            try run.rebuild(checkpoint: run.checkpoint("gradfeat"), network: features, layout: layout, record: record)
        }
        #expect(omega?.description.contains("activation.h5") == true && omega?.description.contains("--omega") == true)

        // The standardisation statistics gone.
        try FileManager.default.removeItem(at: run.activationCache("train"))
        let statistics = #expect(throws: RunDirectory.Error.self) { try run.featureNetwork(network, layout: layout) }
        #expect(statistics == .missingFile(path: run.activationCache("train").path, fix: statistics?.fix ?? ""))
        #expect(statistics?.description.contains("--no-standardize") == true)
        var unstandardised = layout
        unstandardised.standardize = false
        #expect(try run.featureNetwork(network, layout: unstandardised).layerNames == network.layerNames)

        // Not a run folder.
        let empty = RunDirectory(try Self.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: empty.url) }
        let noRecord = #expect(throws: RunDirectory.Error.self) { try empty.record() }
        #expect(noRecord?.description.contains("config.json") == true)
    }

    /// The same images read from a data set's files (as `train` does) and from its data-set cache (as
    /// `cache --activations` does) have one producer, so that `train` reuses a cache `cache --activations` wrote.
    @Test func activationCacheOfADatasetCacheIsReused() throws {
        let run = RunDirectory(try Self.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: run.url) }
        var rng = SeededRandom(seed: 7)
        let pixels = (0..<(6 * 28 * 28)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let set = ImageSet(
            images: pixels, count: 6, channels: 1, height: 28, width: 28, labels: .single([0, 1, 2, 0, 1, 2]),
            classNames: ["a", "b", "c"], source: "/data/digits", split: "train")
        let datasetCache = run.file("digits-train.h5")
        try DatasetCache.write(set, to: datasetCache)
        let network = try ModelZoo.make(BiganCIFAR.smallName, classes: 3, inputChannels: 1, seed: 1)
        func batches(_ set: ImageSet) throws -> ImageBatches {
            try ImageBatches(set, scaling: network.inputScaling).padded(
                by: ImageBatches.paddingBorder(from: 28, to: 32))
        }
        // `cache --activations`: from the data-set cache.
        let fromCache = try batches(try DatasetCache.read(datasetCache))
        let written = try ActivationCache.compute(network: network, splitAt: "conv5", data: fromCache, quiet: true)
        try ActivationCacheFile.save(
            written,
            producer: try ActivationCacheFile.Producer(
                network: network, layer: "conv5", split: "train", images: fromCache),
            to: run.activationCache("train"))

        // `train`: from the data set itself.
        var unbounded: MemoryLedger?
        let (reused, use) = try run.activations(
            of: try batches(set), role: "train", split: "train", network: network, layer: "conv5",
            ledger: &unbounded, quiet: true)
        #expect(use == .reused)
        #expect((reused as? InMemoryBatches)?.inputs == written.inputs)

        // Other images: computed again, saying which field differs.
        var changed = set
        changed.images[0] ^= 1
        let (_, recomputed) = try run.activations(
            of: try batches(changed), role: "train", split: "train", network: network, layer: "conv5",
            ledger: &unbounded, quiet: true)
        guard case let .computed(reason?) = recomputed else {
            Issue.record("expected the cache to be computed again, got \(recomputed)")
            return
        }
        #expect(reason.contains("source"))
    }
}

extension RunDirectory.Error {
    var fix: String {
        switch self {
        case let .missingFile(_, fix), let .mismatch(_, _, fix): return fix
        }
    }
}
