import Datasets
import Foundation
import GradFeat
import Layers
import Tensor
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Data larger than memory: a run whose caches are streamed under a small memory budget equals the in-memory run
/// bit for bit (and across resume), a budget too small is refused with the sizes, and a cache damaged or changed
/// while it is read is refused naming the file.
@Suite(.serialized) struct StreamingTests {
    /// A data-set cache of `count` 28×28 grey images in 3 classes, each class brightening its own band.
    static func datasetCache(count: Int, in folder: URL) throws -> URL {
        var rng = SeededRandom(seed: 21)
        var pixels = [UInt8]()
        let labels = (0..<count).map { $0 % 3 }
        for label in labels {
            for row in 0..<28 {
                for _ in 0..<28 {
                    pixels.append(UInt8((row / 9 == label ? 150 : 0) + Int.random(in: 0..<80, using: &rng)))
                }
            }
        }
        let set = ImageSet(
            images: pixels, count: count, channels: 1, height: 28, width: 28, labels: .single(labels.map { Int64($0) }),
            classNames: ["a", "b", "c"], source: "/synthetic", split: "train")
        let url = folder.appendingPathComponent("images.h5")
        try DatasetCache.write(set, to: url)
        return url
    }

    static func spec(dataset: URL, output: URL, iterations: Int, budget: String?, resume: Bool = false)
        -> ExperimentSpec
    {
        var training = TrainingConfiguration.paper(iterations: iterations, seed: 3)
        training.batchSize = 16
        training.evaluateEvery = 10
        training.checkpointEvery = 10
        return ExperimentSpec(
            data: DataSpec(dataset: dataset.path, testFraction: 0.2), model: BiganCIFAR.smallName,
            linearize: ["conv4", "conv5"], extractors: ["activation", "gradfeat"].map { ExtractorSpec($0) },
            training: training, output: output.path, resume: resume, memoryBudget: budget)
    }

    /// The budget that holds the images and `rows` rows of the run's training cache.
    static func budget(holding rows: Int, of run: URL, images: Int) throws -> String {
        let reader = try ActivationCacheReader(RunDirectory(run).activationCache("train"))
        return "\(images + rows * reader.rowBytes)B"
    }

    static func parameters(_ run: URL, _ extractor: String) throws -> [[Float]] {
        try CheckpointFile.load(RunDirectory(run).checkpoint(extractor)).0.parameters.map(\.scalars)
    }

    @Test func aStreamedRunEqualsTheInMemoryRunAndResumesBitIdentically() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try Self.datasetCache(count: 1_200, in: folder)
        let memory = folder.appendingPathComponent("memory")
        let inMemory = try Experiment(
            Self.spec(dataset: dataset, output: memory, iterations: 30, budget: nil), quiet: true
        ).run()
        let imageBytes = 1_200 * 32 * 32 // padded to bigan-small's 32×32

        // 800 of the 960 training rows fit: the training cache is streamed (its 512-row working set reserved), the
        // 240 test rows are held beside it.
        let budget = try Self.budget(holding: 800, of: memory, images: imageBytes)
        let streamed = folder.appendingPathComponent("streamed")
        let result = try Experiment(
            Self.spec(dataset: dataset, output: streamed, iterations: 30, budget: budget), quiet: true
        ).run()
        #expect(result.rows.map(\.metrics.headline) == inMemory.rows.map(\.metrics.headline))
        for extractor in ["activation", "gradfeat"] {
            #expect(
                try Self.parameters(streamed, extractor) == Self.parameters(memory, extractor),
                "\(extractor): the streamed run differs from the in-memory one")
        }

        // Interrupted at 20 and resumed, streamed: the batch order depends on (seed, iteration) only. (The activation
        // model alone: a longer --niter on resume moves gradfeat's ω̄, the activation head, under its first part.)
        let resumed = folder.appendingPathComponent("resumed")
        var spec = Self.spec(dataset: dataset, output: resumed, iterations: 20, budget: budget)
        spec.extractors = [ExtractorSpec("activation")]
        try Experiment(spec, quiet: true).run()
        spec.training.iterations = 30
        spec.resume = true
        try Experiment(spec, quiet: true).run()
        #expect(try Self.parameters(resumed, "activation") == Self.parameters(memory, "activation"))

        // The placement, observed: the training set streams, the test set does not.
        let model = try Plugins.shared.models.entry(BiganCIFAR.smallName)
        let data = try ExperimentData.load(spec.data, model: model, seed: 3, quiet: true)
        let base = try ModelZoo.make(BiganCIFAR.smallName, classes: 3, inputChannels: 1, inputSize: 32, seed: 3)
        let layout = try RunDirectory(streamed).layout(
            model: BiganCIFAR.smallName, record: nil, linearize: ["conv4", "conv5"])
        let (train, test, _) = try Experiment.activations(
            in: RunDirectory(streamed), base: base, layout: layout, data: data,
            budget: try MemoryBudget(parsing: budget), batchSize: 16, quiet: true)
        #expect(train.isStreamed && !test.isStreamed)
        #expect((train as? ActivationCacheReader)?.readsRowsDirectly == true)
    }

    /// A data-set cache larger than the budget stays on disk: its images are read a batch at a time to write the
    /// activation caches, and the run equals the one that held them.
    @Test func aRunWhoseImagesDoNotFitReadsThemFromTheirFileAndEqualsTheInMemoryRun() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataset = try Self.datasetCache(count: 6_000, in: folder)
        func spec(_ name: String, budget: String?) -> ExperimentSpec {
            var spec = Self.spec(
                dataset: dataset, output: folder.appendingPathComponent(name), iterations: 20,
                budget: budget)
            spec.split = "conv1" // from the images: caches of 4 KiB rows, so both streamed fit beside them
            spec.data.trainSize = 4_000
            return spec
        }
        let inMemory = try Experiment(spec("memory", budget: nil), quiet: true).run()
        // The images (5,200 × 32×32 bytes) do not fit in half of 10 MiB; two streamed batches of each set (512 × 5 KiB,
        // as uint8 and as floats, twice) and of each cache (512 × 4 KiB twice) do.
        let streamedSpec = spec("streamed", budget: "10MB")
        let model = try Plugins.shared.models.entry(BiganCIFAR.smallName)
        let data = try ExperimentData.load(
            streamedSpec.data, model: model, seed: 3, quiet: true,
            budget: try MemoryBudget(parsing: "10MB"))
        #expect(data.train.isStreamed && data.test.isStreamed && data.train.residentBytes == 0)
        #expect(data.train.count == 4_000 && data.test.count == 1_200)
        let streamed = try Experiment(streamedSpec, quiet: true).run()
        #expect(streamed.rows.map(\.metrics.headline) == inMemory.rows.map(\.metrics.headline))
        for extractor in ["activation", "gradfeat"] {
            #expect(
                try Self.parameters(folder.appendingPathComponent("streamed"), extractor)
                    == Self.parameters(folder.appendingPathComponent("memory"), extractor),
                "\(extractor): the run that read its images from the file differs from the in-memory one")
        }
    }

    /// A registered data set whose images pass the budget is written to `dataset-<split>.h5` in the run folder as
    /// its loader decodes it, part by part, and read from there: the run equals the one that held it.
    @Test func aNamedDataSetLargerThanTheBudgetIsCachedAsDecodedAndEqualsTheInMemoryRun() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let whole = try DatasetCache.read(try Self.datasetCache(count: 9_000, in: folder))
        let parts = PartCounter()
        let plugins = Plugins()
        try plugins.datasets.register(
            DatasetPlugin(
                name: "banded", summary: "synthetic bands, read in parts",
                loadParts: { request, size, part in
                    // 7,200 training and 1,800 test images, handed out `size` at a time.
                    let rows = request.split == "train" ? 0..<7_200 : 7_200..<9_000
                    for start in stride(from: rows.lowerBound, to: rows.upperBound, by: size) {
                        parts.add()
                        var piece = whole.subset(start..<min(rows.upperBound, start + size))
                        piece.split = request.split
                        try part(piece)
                    }
                },
                load: { _ in throw GradFeatError.invalidConfiguration("read in parts only") }))
        func spec(_ name: String, budget: String?) -> ExperimentSpec {
            var spec = Self.spec(
                dataset: folder, output: folder.appendingPathComponent(name), iterations: 20,
                budget: budget)
            spec.data = DataSpec(dataset: "banded")
            spec.split = "conv1"
            return spec
        }
        let inMemory = try Experiment(spec("memory", budget: nil), plugins: plugins, quiet: true).run()
        #expect(
            !FileManager.default.fileExists(atPath: folder.appendingPathComponent("memory/dataset-train.h5").path),
            "a set that fits was written to disk")
        // Half of 10 MiB is left for the images: the 7,200 training images (5.4 MiB) go to the file, the 1,800 test
        // images stay in memory.
        let streamed = try Experiment(spec("streamed", budget: "10MB"), plugins: plugins, quiet: true).run()
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("streamed/dataset-test.h5").path))
        let spilled = try DatasetCacheReader(url: folder.appendingPathComponent("streamed/dataset-train.h5"))
        #expect(spilled.count == 7_200 && parts.count > 8, "the set was not read in parts")
        #expect(streamed.rows.map(\.metrics.headline) == inMemory.rows.map(\.metrics.headline))
        for extractor in ["activation", "gradfeat"] {
            #expect(
                try Self.parameters(folder.appendingPathComponent("streamed"), extractor)
                    == Self.parameters(folder.appendingPathComponent("memory"), extractor),
                "\(extractor): the run that cached its data set as decoded differs from the in-memory one")
        }

        // The loader's own error reaches the user as it is, not as a failure to write the file.
        try plugins.datasets.register(
            DatasetPlugin(
                name: "absent", summary: "a loader that finds nothing",
                loadParts: { _, _, _ in
                    throw GradFeatError.invalidConfiguration("absent files not found; pass --data-dir")
                },
                load: { _ in throw GradFeatError.invalidConfiguration("read in parts only") }))
        var absent = spec("absent", budget: "10MB")
        absent.data = DataSpec(dataset: "absent")
        do {
            try Experiment(absent, plugins: plugins, quiet: true).run()
            Issue.record("a loader's failure was not reported")
        } catch {
            #expect(
                "\(error)".contains("absent files not found") && !"\(error)".contains("cannot be written"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("absent/dataset-train.h5").path))
    }

    /// Subsets and crops of streamed images are those of the set in memory, whatever order they are asked in.
    @Test func streamedImagesAreSubsetAndCroppedAsInMemory() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try Self.datasetCache(count: 60, in: folder)
        let scaling = InputScaling(mean: [0.5], std: [0.25])
        let held = try ImageBatches(try DatasetCache.read(url), scaling: scaling)
        let read = DatasetCacheImages(try DatasetCacheReader(url: url), scaling: scaling)
        let kept = [58, 2, 31, 7, 40, 11, 19, 33]
        func same(_ a: some ImageSource, _ b: some ImageSource, _ what: String) throws {
            #expect(a.imageShape == b.imageShape && a.count == b.count, "\(what): shapes")
            #expect(try a.images(Array(0..<a.count)).pixels == b.images(Array(0..<b.count)).pixels, "\(what)")
            #expect(try a.contentHash(batchSize: 3) == b.contentHash(batchSize: 5), "\(what): hash")
        }
        try same(
            read.padded(by: 2).subset(kept).centreCropped(to: 28),
            held.padded(by: 2).subset(kept).centreCropped(to: 28),
            "centre crop")
        for view in 0..<3 {
            // Random crops placed by position in the set cropped, then subset again: the placements follow the images.
            let a = read.padded(by: 2).subset(kept).cropped(.random(count: 3), view: view, side: 20, seed: 9).subset([
                5, 0, 3,
            ])
            let b = held.padded(by: 2).subset(kept).cropped(.random(count: 3), view: view, side: 20, seed: 9).subset([
                5, 0, 3,
            ])
            try same(a, b, "random view \(view)")
        }
        #expect(throws: (any Error).self) { _ = try read.subset(kept).images([8]) }
    }

    @Test func imagesStreamedFromADatasetCacheEqualThoseInMemory() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try Self.datasetCache(count: 50, in: folder)
        let scaling = InputScaling(mean: [0.5], std: [0.25])
        let inMemory = try ImageBatches(try DatasetCache.read(url), scaling: scaling).padded(by: 2)
        let streamed = DatasetCacheImages(try DatasetCacheReader(url: url), scaling: scaling, border: 2)
        #expect(streamed.sampleShape == inMemory.sampleShape && streamed.isStreamed)
        #expect(try streamed.contentHash(batchSize: 7) == inMemory.contentHash)
        let indices = [49, 3, 3, 0, 17]
        #expect(try streamed.batch(indices).inputs == inMemory.batch(indices).inputs)
        #expect(try streamed.batch(indices).targets == inMemory.batch(indices).targets)
    }

    @Test func aBudgetWithoutRoomForTheBatchesIsRefusedWithTheSizes() throws {
        var ledger = MemoryLedger(budget: try MemoryBudget(parsing: "1MB"), reserved: 900 * 1024)
        #expect(try ledger.holdsInMemory("a.h5", bytes: 50 * 1024, streamingBytes: 10 * 1024))
        #expect(throws: MemoryLedger.Refusal.self) {
            _ = try ledger.holdsInMemory("b.h5", bytes: 4 << 20, streamingBytes: 512 * 1024)
        }
        do {
            _ = try ledger.holdsInMemory("b.h5", bytes: 4 << 20, streamingBytes: 512 * 1024)
        } catch let refusal as MemoryLedger.Refusal {
            for part in ["--memory-budget 1.0 MiB", "b.h5", "512.0 KiB", "950.0 KiB", "2MB or more"] {
                #expect(refusal.message.contains(part), "\(refusal.message) lacks \(part)")
            }
        }
        // A streamed part that fits is reserved, not held.
        var roomy = MemoryLedger(budget: try MemoryBudget(parsing: "1MB"))
        #expect(try !roomy.holdsInMemory("c.h5", bytes: 2 << 20, streamingBytes: 256 * 1024))
        #expect(roomy.used == 256 * 1024)

        // Sizes from a huge --batchsize or a hostile file saturate and are refused; they never overflow.
        #expect(MemoryLedger.streamingBytes(rows: 10, rowBytes: 4, batchSize: .max) == 40)
        #expect(MemoryLedger.streamingBytes(rows: .max, rowBytes: 1 << 20, batchSize: .max) == .max)
        var saturated = MemoryLedger(budget: try MemoryBudget(parsing: "1MB"), reserved: 1 << 10)
        #expect(throws: MemoryLedger.Refusal.self) {
            _ = try saturated.holdsInMemory("d.h5", bytes: .max, streamingBytes: .max)
        }
        #expect(saturated.used == 1 << 10, "a refusal placed something")
    }

    /// A cache written by `ActivationCache.write`, and its reader.
    static func writtenCache(in folder: URL, rows: Int = 40) throws -> (URL, InMemoryBatches) {
        let network = GradFeatModelTests.smallNetwork(seed: 1)
        let images = try InMemoryBatches(
            inputs: GradFeatModelTests.input(rows, seed: 3),
            targets: .classes((0..<rows).map { $0 % 3 }), classCount: 3)
        let url = folder.appendingPathComponent("activations.h5")
        let producer = try ActivationCacheFile.Producer(
            network: network, layer: "block", split: "train", source: "synthetic", transform: "unit")
        try ActivationCache.write(
            network: network, splitAt: "block", data: images, producer: producer, to: url,
            batchSize: 7, quiet: true)
        // The same batch size: a convolution's rounding depends on how many samples share its matrix product.
        return (
            url,
            try ActivationCache.compute(network: network, splitAt: "block", data: images, batchSize: 7, quiet: true)
        )
    }

    @Test func aStreamedCacheServesShuffledRowsAsInMemoryOnes() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (url, expected) = try Self.writtenCache(in: folder)
        let reader = try ActivationCacheReader(url)
        #expect(reader.readsRowsDirectly)
        let indices = [39, 0, 17, 17, 5, 38, 1]
        let (inputs, targets) = try reader.batch(indices)
        #expect(inputs == expected.inputs.gathering(rows: indices))
        #expect(targets == expected.targets.gathering(indices))
        #expect(try reader.loadedIntoMemory().inputs == expected.inputs)
        // Prefetched batches are the batches asked for, whatever was prefetched.
        let prefetcher = BatchPrefetcher(reader)
        #expect(try prefetcher.batch([1, 2], thenPrefetch: [3, 4]).inputs == expected.inputs.gathering(rows: [1, 2]))
        #expect(try prefetcher.batch([5, 6], thenPrefetch: [7]).inputs == expected.inputs.gathering(rows: [5, 6]))
        #expect(try prefetcher.batch([7], thenPrefetch: nil).inputs == expected.inputs.gathering(rows: [7]))
        #expect(throws: GradFeatError.self) { _ = try reader.batch([40]) }
    }

    @Test func aCacheTruncatedOrChangedWhileReadIsRefusedNamingTheFile() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (url, _) = try Self.writtenCache(in: folder)
        let reader = try ActivationCacheReader(url)
        _ = try reader.batch([0, 1])

        func expectDamaged(_ parts: [String], _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("expected a refusal mentioning \(parts)")
            } catch let error as GradFeatError {
                guard case let .damagedFile(path, problem, _) = error else {
                    Issue.record("expected damagedFile, got \(error)")
                    return
                }
                #expect(path == url.path)
                for part in parts { #expect(problem.contains(part), "\(problem) lacks \(part)") }
            } catch {
                Issue.record("expected a GradFeatError, got \(error)")
            }
        }
        // Grown in place: the size and modification time differ from those at opening.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0, count: 16))
        try handle.close()
        expectDamaged(["changed while it was read", "\(size) bytes", "\(size + 16) bytes"]) {
            _ = try reader.batch([2])
        }

        // Truncated: a reader opened now refuses the file whose dataset runs past its end.
        #expect(truncate(url.path, off_t(size - 64)) == 0)
        expectDamaged(["truncated", "\(size - 64) bytes"]) { _ = try ActivationCacheReader(url) }
    }

    @Test func aCacheWrittenOnAFullDiskIsRefusedBeforeItsFirstRow() throws {
        let folder = try RunDirectoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("huge.h5")
        let producer = ActivationCacheFile.Producer(
            model: "m", weightsHash: "h", layer: "l", split: "s", source: "x", transform: "t")
        // 2^22 rows of 4 MiB, 16 TiB: more than a test machine's disk.
        #expect(throws: GradFeatError.self) {
            try ActivationCacheFile.write(
                to: url, producer: producer, sampleShape: Shape([1 << 20]),
                targets: .classes([Int](repeating: 0, count: 1 << 22)),
                classCount: 1
            ) { _ in Issue.record("no row should be written") }
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }
}

/// Counts the parts a loader hands out (from its closure, which must be Sendable).
final class PartCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}
