import Datasets
import Foundation
import HDF5
import Tensor

/// An experiment's train and test images, scaled for its model: held in memory, or — for a data-set cache larger
/// than the memory budget — read from the file a batch at a time (`ImageSource`).
public struct ExperimentData: Sendable {
    public var train: any ImageSource
    public var test: any ImageSource
    public var classNames: [String]
    /// One line for reports: where the images came from and how many were used.
    public var description: String
    /// The data set's split names of `train` and `test` (they enter the activation caches' producers).
    public var trainSplit: String
    public var testSplit: String

    /// Whether the images are read from their file a batch at a time rather than held.
    public var isStreamed: Bool { train.isStreamed || test.isStreamed }

    /// Loads `spec`'s images for `model` (its pixel scaling; images up to 8 pixels smaller than its input are
    /// zero-padded, 28×28 to 32×32), then takes the seeded subsets `trainSize` and `testSize`.
    ///
    /// `spec.dataset` is a registered data set (`plugins.datasets`) or a data-set cache `.h5`; with a cache and no
    /// `testDataset`, a seeded `testFraction` of it is held out as the test set. A cache whose decoded images do not
    /// fit in half of `budget` (`imageShare`; nil: unbounded) stays on disk and is read a batch at a time; the images
    /// are the same.
    ///
    /// A registered data set is read a part at a time (`DatasetPlugin.loadParts`): held while its images fit in
    /// that share, else written to `dataset-<split>.h5` in `spillDirectory` (the run folder) as it is decoded, and read
    /// from there a batch at a time.
    public static func load(
        _ spec: DataSpec, model: ModelPlugin, seed: UInt64, plugins: Plugins = .shared,
        quiet: Bool = false, budget: MemoryBudget? = nil,
        spillDirectory: URL? = nil
    ) throws -> ExperimentData {
        let clock = Date()
        try spec.validate()
        var train: any ImageSource, test: any ImageSource
        var trainSplit: String, testSplit: String
        var origin: String
        let trainClasses: [String], testClasses: [String]
        let trainSource: String, testSource: String
        if DataSpec.isCacheFile(spec.dataset) {
            let reader = try openCache(spec.dataset, option: "--dataset")
            let testReader = try spec.testDataset.map { try openCache($0, option: "--test-dataset") }
            if let testReader, let testDataset = spec.testDataset, testReader.imageShape != reader.imageShape {
                let (a, b) = (reader.imageShape, testReader.imageShape)
                throw GradFeatError.invalidConfiguration(
                    "--test-dataset \(testDataset) holds \(b[0])x\(b[1])x\(b[2]) images, but --dataset \(spec.dataset) "
                        + "holds \(a[0])x\(a[1])x\(a[2]) images; cache both from the same data set with the same --size"
                )
            }
            // The bytes the images would hold in memory, padded as below.
            let border = ImageBatches.paddingBorder(from: reader.imageShape[1], to: model.inputShape[1])
            let imageBytes = MemoryLedger.product(
                reader.imageShape[0], (reader.imageShape[1] + 2 * border) * (reader.imageShape[2] + 2 * border))
            let bytes = MemoryLedger.product(MemoryLedger.sum(reader.count, testReader?.count ?? 0), imageBytes)
            let streamed = budget.map { bytes > Self.imageShare(of: $0) } ?? false
            if streamed, !quiet, let budget {
                Log.note(
                    "reading the images from \(spec.dataset) a batch at a time: their \(MemoryBudget.format(bytes)) "
                        + "pass half of --memory-budget \(budget), the images' share")
            }
            func images(_ reader: DatasetCacheReader) throws -> any ImageSource {
                if streamed { return DatasetCacheImages(reader, scaling: model.inputScaling) }
                defer { reader.close() }
                return try ImageBatches(try reader.readAll(), scaling: model.inputScaling)
            }
            (trainSplit, trainClasses, trainSource) = (reader.split, reader.classNames, reader.source)
            train = try images(reader)
            origin = spec.dataset
            if let testReader {
                (testSplit, testClasses, testSource) = (testReader.split, testReader.classNames, testReader.source)
                test = try images(testReader)
            } else {
                // A seeded split: the same seed and file give the same held-out images.
                var rng = SeededRandom(seed: seed ^ 0x4E1D_0C7)
                var order = Array(0..<train.count)
                order.shuffle(using: &rng)
                let held = Int((Double(train.count) * spec.testFraction).rounded())
                guard held >= 1, held < train.count else {
                    throw GradFeatError.invalidConfiguration(
                        "--dataset \(spec.dataset) holds \(train.count) images: too few to hold out a test fraction of "
                            + "\(spec.testFraction); pass --test-dataset TEST.h5 or a larger cache")
                }
                test = train.subset(order.prefix(held).sorted())
                train = train.subset(order.dropFirst(held).sorted())
                (testClasses, testSource) = (trainClasses, trainSource)
                testSplit = trainSplit + "-heldout"
                trainSplit += "-kept"
                origin += String(format: " (%.0f %% held out for testing, seed %llu)", 100 * spec.testFraction, seed)
            }
        } else {
            if spec.testDataset != nil {
                throw GradFeatError.invalidConfiguration(
                    "--test-dataset applies to a data-set cache given as --dataset FILE.h5; '\(spec.dataset)' names a "
                        + "registered data set, which has its own test split")
            }
            let plugin = try plugins.datasets.entry(spec.dataset)
            (trainSplit, testSplit) = (plugin.trainSplit, plugin.testSplit)
            let size = ImageSize(spec.imageSize)
            var room = budget.map(Self.imageShare)
            func images(_ split: String) throws -> (images: any ImageSource, classes: [String], source: String) {
                let request = DatasetRequest(split: split, dataDirectory: spec.dataDirectory, size: size)
                guard let budget = room, let spillDirectory else {
                    let set = try plugin.load(request)
                    return (try ImageBatches(set, scaling: model.inputScaling), set.classNames, set.source)
                }
                let placed = try placeParts(
                    plugin, request, budget: budget,
                    spill: spillDirectory.appendingPathComponent("dataset-\(split).h5"),
                    scaling: model.inputScaling, quiet: quiet)
                room = max(0, budget - placed.images.residentBytes)
                return placed
            }
            let trainPlaced = try images(trainSplit), testPlaced = try images(testSplit)
            (train, trainClasses, trainSource) = trainPlaced
            (test, testClasses, testSource) = testPlaced
            origin = "\(spec.dataset) (\(trainSource))"
        }
        // Labels are class indices: splits that name their classes differently would score every image against
        // the wrong class, silently.
        if let reason = ClassList.disagreement(trainClasses, testClasses) {
            throw GradFeatError.invalidConfiguration(
                "the train data (\(trainSource), split \(trainSplit)) and the test data (\(testSource), split "
                    + "\(testSplit)) disagree on their classes: \(reason); give both splits the same class folders or a "
                    + "class list (labels.txt)")
        }
        let border = ImageBatches.paddingBorder(from: train.imageShape[1], to: model.inputShape[1])
        (train, test) = (train.padded(by: border), test.padded(by: border))
        // A seeded subset keeps quick runs reproducible and class-balanced in expectation.
        func subset(_ data: any ImageSource, _ n: Int, _ salt: UInt64) -> any ImageSource {
            guard n > 0, n < data.count else { return data }
            var rng = SeededRandom(seed: seed ^ salt)
            var order = Array(0..<data.count)
            order.shuffle(using: &rng)
            return data.subset(Array(order.prefix(n)).sorted())
        }
        train = subset(train, spec.trainSize, 0x7EA1)
        test = subset(test, spec.testSize, 0x7E57)
        let description = "\(origin): \(train.count) train / \(test.count) \(testSplit) images"
        if !quiet {
            Log.note(
                String(
                    format: "data: %@ — %d train / %d test images of %@, %d classes (%.1f s)", spec.dataset,
                    train.count, test.count, train.imageShape.description, trainClasses.count,
                    Date().timeIntervalSince(clock)))
        }
        return ExperimentData(
            train: train, test: test, classNames: trainClasses, description: description,
            trainSplit: trainSplit, testSplit: testSplit)
    }

    /// The part of a memory budget images may hold: half, so that the activation caches computed from them can
    /// still be streamed beside them (they are floats, 4× the pixels' bytes at an input split).
    public static func imageShare(of budget: MemoryBudget) -> Int { budget.bytes / 2 }

    /// `request`'s split read a part at a time: held while its pixels fit in `budget` bytes; else, from the first
    /// part that does not fit, every part is written to the data-set cache `spill` as it is decoded, and the images
    /// are read from it a batch at a time. Either way the images are the same.
    static func placeParts(
        _ plugin: DatasetPlugin, _ request: DatasetRequest, budget: Int, spill: URL, scaling: InputScaling, quiet: Bool
    ) throws -> (images: any ImageSource, classes: [String], source: String) {
        var held: [ImageSet]? = [] // nil once the parts go to the file
        var bytes = 0
        var fitted = false
        do {
            try FileManager.default.createDirectory(
                at: spill.deletingLastPathComponent(), withIntermediateDirectories: true)
            try DatasetCache.write(to: spill) { append in
                try plugin.forEachPart(request, partSize: DatasetCache.partImages) { part in
                    guard var parts = held else { return try append(part) }
                    parts.append(part)
                    bytes = MemoryLedger.sum(bytes, part.images.count)
                    if bytes <= budget {
                        held = parts
                        return
                    }
                    if !quiet {
                        Log.note(
                            "writing \(plugin.name) \(request.split) to \(spill.path) as it is decoded: its images "
                                + "pass the \(MemoryBudget.format(budget)) of the memory budget left for images (half)")
                    }
                    held = nil
                    for part in parts { try append(part) }
                }
                // All held: abandon the write (it leaves no file) by an error caught below.
                if held != nil {
                    fitted = true
                    throw AllHeld()
                }
            }
        } catch is AllHeld {}
        if fitted {
            // A file an earlier run spilled is not these images' any more.
            try? FileManager.default.removeItem(at: spill)
            guard let set = try ImageSet.concatenating(held ?? []) else {
                throw GradFeatError.invalidConfiguration(
                    "the \(plugin.name) loader gave no images for split \(request.split); check the data set's files")
            }
            return (try ImageBatches(set, scaling: scaling), set.classNames, set.source)
        }
        let reader = try DatasetCacheReader(url: spill)
        return (DatasetCacheImages(reader, scaling: scaling), reader.classNames, reader.source)
    }

    /// Ends `placeParts`' write of a set that turned out to fit in memory.
    private struct AllHeld: Error {}

    /// Prepares the images for test-time views: training and test images become their centre crops of side
    /// 7/8 of the images' (`TestCrops.cropSide`), which the model is built for and the periodic evaluations use.
    /// Returns the test images as they were, from which each view is cropped, and the crop side; nil for `.none`.
    public mutating func cropForTestViews(_ crops: TestCrops) throws -> (uncroppedTest: any ImageSource, side: Int)? {
        guard crops != .none else { return nil }
        let side = min(train.imageShape[1], train.imageShape[2])
        let crop = TestCrops.cropSide(for: side)
        guard crop >= 8, test.imageShape[1] >= crop, test.imageShape[2] >= crop else {
            throw GradFeatError.invalidConfiguration(
                "--test-crops \(crops): the images are \(train.imageShape[1])x\(train.imageShape[2]) (test "
                    + "\(test.imageShape[1])x\(test.imageShape[2])), too small for crops of 7/8 of their side; cache "
                    + "them larger (--image-size 256 for a 224 input)")
        }
        let uncropped = test
        (train, test) = (train.centreCropped(to: crop), test.centreCropped(to: crop))
        description += ", centre-cropped to \(crop)x\(crop) (test: \(crops) crops averaged)"
        return (uncropped, crop)
    }

    /// A data-set cache, refusing another kind of GradFeat file with what to pass instead.
    public static func readCache(_ path: String, option: String) throws -> ImageSet {
        let reader = try openCache(path, option: option)
        defer { reader.close() }
        return try reader.readAll()
    }

    /// A data-set cache opened for reading a batch at a time (labels in memory), refusing another kind of GradFeat
    /// file with what to pass instead.
    public static func openCache(_ path: String, option: String) throws -> DatasetCacheReader {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw GradFeatError.invalidConfiguration(
                "\(option) \(path): no such file; write a data-set cache with `gradfeat cache --format FORMAT --source "
                    + "PATH --split SPLIT --output \(url.lastPathComponent)`")
        }
        if let format = try? HDF5File(url: url, mode: .readOnly).attribute("format", as: String.self),
            format == ActivationCacheFile.format
        {
            throw GradFeatError.invalidConfiguration(
                "\(option) \(path) is an activation cache (\(format)), not a data-set cache: pass the images' cache "
                    + "(`gradfeat cache --format …`); activation caches are read from the run folder "
                    + "(OUTPUT/activations-train.h5), where `gradfeat cache --activations --output` can write them")
        }
        return try DatasetCacheReader(url: url)
    }
}
