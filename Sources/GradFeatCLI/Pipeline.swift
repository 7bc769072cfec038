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

/// The frozen bottom's activations of the training and test images, reused from the run folder's caches when
/// their producer matches (whoever wrote them: train, finetune, demo or `cache --activations`), else computed and saved.
func cachedActivations(
    in run: RunDirectory, base: Network, split: String, loaded: LoadedData, quiet: Bool
) throws -> (train: InMemoryBatches, test: InMemoryBatches) {
    func cache(_ images: ImageBatches, role: String, split dataSplit: String) throws -> InMemoryBatches {
        let (cache, use) = try run.activations(
            of: images, role: role, split: dataSplit, network: base, layer: split, quiet: quiet)
        switch use {
        case .reused: note("using cached activations \(run.activationCache(role).path)")
        case let .computed(reason?): note("rebuilt \(run.activationCache(role).path): \(reason)")
        case .computed(nil): break
        }
        return cache
    }
    return (try cache(loaded.train, role: "train", split: loaded.trainSplit),
            try cache(loaded.test, role: "test", split: loaded.testSplit))
}

/// Prints the table and writes results, metrics, plot and configuration into `directory`.
func finish(rows: [Comparison.Row], title: String, notes: [String], record: RunRecord, directory: URL) throws {
    let report = ResultsReport(title: title, rows: rows, notes: notes)
    try report.write(to: directory)
    try RunDirectory(directory).write(record)
    print("")
    print(report.markdown)
    print("Results: \(directory.path)/results.md, metrics.csv, accuracy.svg, config.json")
}
