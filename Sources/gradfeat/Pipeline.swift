import ArgumentParser
import Datasets
import Foundation
import GradFeat
import Layers
import Tensor

/// Train and test images of one data set, ready for a model.
struct LoadedData {
    var train: ImageBatches
    var test: ImageBatches
    var classNames: [String]
    var description: String
    /// The data set's split names of `train` and `test` ("test" is "val" for VOC2007).
    var trainSplit = "train"
    var testSplit: String
}

/// Loads the data set named by `options`, scaled for the model, with 28×28 images padded to the encoder's 32×32.
func loadData(_ options: DataOptions, scaling: InputScaling, seed: UInt64, padTo size: Int? = 32) throws -> LoadedData {
    let clock = Date()
    let trainSet = try DataCatalog.load(options.dataset, split: "train", dataDirectory: options.dataDir, size: options.imageSize)
    let testSplit = options.dataset == "voc2007" ? "val" : "test"
    let testSet = try DataCatalog.load(options.dataset, split: testSplit, dataDirectory: options.dataDir, size: options.imageSize)
    var train = try ImageBatches(trainSet, scaling: scaling)
    var test = try ImageBatches(testSet, scaling: scaling)
    if let size {
        let border = ImageBatches.paddingBorder(from: train.imageShape[1], to: size)
        (train, test) = (train.padded(by: border), test.padded(by: border))
    }
    // A seeded subset keeps quick runs reproducible and class-balanced in expectation.
    func subset(_ data: ImageBatches, _ n: Int, _ salt: UInt64) -> ImageBatches {
        guard n > 0, n < data.count else { return data }
        var rng = SeededRandom(seed: seed ^ salt)
        var order = Array(0..<data.count)
        order.shuffle(using: &rng)
        return data.subset(Array(order.prefix(n)).sorted())
    }
    train = subset(train, options.trainSize, 0x7EA1)
    test = subset(test, options.testSize, 0x7E57)
    note(String(format: "data: %@ — %d train / %d test images of %@, %d classes (%.1f s)", options.dataset,
                train.count, test.count, train.imageShape.description, trainSet.classCount,
                Date().timeIntervalSince(clock)))
    return LoadedData(
        train: train, test: test, classNames: trainSet.classNames,
        description: "\(options.dataset) (\(trainSet.source)): \(train.count) train / \(test.count) \(testSplit) images",
        testSplit: testSplit)
}

/// The loss that fits the targets: softmax cross-entropy, or per-class binary cross-entropy for multi-label data.
func loss(for targets: Targets) -> any Loss {
    if case .multiLabel = targets { return SigmoidBinaryCrossEntropy() }
    return SoftmaxCrossEntropy()
}

/// The frozen bottom's activations of the training and test images, reused from `directory`'s caches
/// `activations-{train,test}.h5` when their producer matches (whoever wrote them: train, demo or
/// `cache --activations`), else computed and saved there.
func cachedActivations(
    in directory: URL, base: Network, split: String, loaded: LoadedData, quiet: Bool
) throws -> (train: InMemoryBatches, test: InMemoryBatches) {
    func cache(_ images: ImageBatches, role: String, split dataSplit: String) throws -> InMemoryBatches {
        let url = directory.appendingPathComponent("activations-\(role).h5")
        let producer = try ActivationCacheFile.Producer(network: base, layer: split, split: dataSplit, images: images)
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                let (cache, _) = try ActivationCacheFile.load(url, expecting: producer)
                note("using cached activations \(url.path)")
                return cache
            } catch {
                note("rebuilding \(url.path): \(error)")
            }
        }
        let cache = try ActivationCache.compute(network: base, splitAt: split, data: images, label: "cache \(role)", quiet: quiet)
        try ActivationCacheFile.save(cache, producer: producer, to: url)
        return cache
    }
    return (try cache(loaded.train, role: "train", split: loaded.trainSplit),
            try cache(loaded.test, role: "test", split: loaded.testSplit))
}

/// What a run records beside its results.
struct RunRecord: Codable {
    var command: String
    var model: String
    var dataset: String
    var data: String
    var split: String
    var linearize: [String]
    var parametrization: String
    var seed: UInt64
    var pretraining: TrainingConfiguration?
    var training: TrainingConfiguration
    var extractors: [String]
    var date: String
}

/// Prints the table and writes results, metrics, plot and configuration into `directory`.
func finish(rows: [Comparison.Row], title: String, notes: [String], record: RunRecord, directory: URL) throws {
    let report = ResultsReport(title: title, rows: rows, notes: notes)
    try report.write(to: directory)
    try writeJSON(record, to: directory.appendingPathComponent("config.json"))
    print("")
    print(report.markdown)
    print("Results: \(directory.path)/results.md, metrics.csv, accuracy.svg, config.json")
}
