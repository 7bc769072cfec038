// Streaming benchmark (data larger than memory): the shuffled reader's bandwidth, cold and warm, against `dd` of the
// same file and against the chunked layout earlier versions wrote; and the headline step (bigan-cifar, θ2 = conv5,
// full GradFeat, batch 128) fed from a streamed activation cache against the same step fed from memory, in
// alternating rounds of one run. See BENCHMARKS.md.
//
//     swift run -c release StreamBench [--rows N] [--steps S] [--rounds R] [--folder DIR]
//
// The caches hold seeded random activations (a step's cost does not depend on the values). "Cold" reads follow
// posix_fadvise(DONTNEED) on the file, which evicts its clean pages from the page cache.
import Foundation
import GradFeat
import GradFeatLogging
import HDF5
import Layers
import Tensor

GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log

#if canImport(Glibc)
    import Glibc
#endif

func option(_ name: String) -> String? {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
let rowCount = option("--rows").flatMap(Int.init) ?? 20_000
let steps = option("--steps").flatMap(Int.init) ?? 60
let rounds = option("--rounds").flatMap(Int.init) ?? 3
let batch = 128
let folder = URL(fileURLWithPath: option("--folder") ?? NSTemporaryDirectory()).appendingPathComponent(
    "gradfeat-streambench-\(getpid())")

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Evicts `url`'s pages from the page cache.
func evict(_ url: URL) {
    let descriptor = open(url.path, O_RDONLY)
    guard descriptor >= 0 else { return }
    _ = fdatasync(descriptor)
    _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_DONTNEED))
    close(descriptor)
}

/// `dd`'s sequential read of `url` in GB/s.
func ddBandwidth(_ url: URL) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/dd")
    process.arguments = ["if=\(url.path)", "of=/dev/null", "bs=1M"]
    process.standardError = FileHandle.nullDevice
    let start = now()
    try process.run()
    process.waitUntilExit()
    let bytes = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
    return Double(bytes) / (now() - start) / 1e9
}

/// One epoch of shuffled batches of `batch` rows through `reader`, in GB/s of activations.
func shuffledBandwidth(_ reader: ActivationCacheReader) throws -> Double {
    let order = BatchOrder(count: reader.count, batchSize: batch, seed: 5)
    let permutation = order.permutation(epoch: 0)
    let start = now()
    for b in 0..<order.batchesPerEpoch {
        _ = try reader.batch(Array(permutation[(b * batch)..<((b + 1) * batch)]))
    }
    return Double(order.batchesPerEpoch * batch * reader.rowBytes) / (now() - start) / 1e9
}

let producer = ActivationCacheFile.Producer(
    model: BiganCIFAR.name, weightsHash: "random", layer: "l", split: "bench", source: "random", transform: "none")
let targets = Targets.classes((0..<rowCount).map { $0 % 10 })

/// A cache of seeded random rows of `shape`, as this version writes it (contiguous).
func writeCache(_ url: URL, shape: Shape) throws {
    var rng = SeededRandom(seed: 3)
    try ActivationCacheFile.write(to: url, producer: producer, sampleShape: shape, targets: targets, classCount: 10) {
        write in
        for start in stride(from: 0, to: rowCount, by: 512) {
            let rows = min(512, rowCount - start)
            try write(start, Tensor.uniform(Shape([rows] + shape.dimensions), low: -1, high: 1, using: &rng).scalars)
        }
    }
}

/// The same rows in the chunked layout earlier versions wrote (chunks of about 1 MiB of whole rows).
func writeChunkedCopy(of source: ActivationCacheReader, to url: URL) throws {
    let rowLength = source.sampleShape.count
    let chunkRows = max(1, min(rowCount, (1 << 20) / max(1, rowLength * 4)))
    try HDF5File.writeAtomically(to: url, format: ActivationCacheFile.format, version: ActivationCacheFile.version) {
        file in
        for (key, value) in [
            ("model", producer.model), ("weights_hash", producer.weightsHash), ("layer", producer.layer),
            ("split", producer.split), ("source", producer.source), ("transform", producer.transform),
        ] {
            try file.setAttribute(key, value)
        }
        try file.setAttribute("class_count", 10)
        try file.createDataset("labels", values: (0..<rowCount).map { Int64($0 % 10) })
        let dataset = try file.createDataset(
            "activations", elementType: .float32, shape: [rowCount] + source.sampleShape.dimensions,
            options: DatasetOptions(chunkShape: [chunkRows] + source.sampleShape.dimensions))
        for start in stride(from: 0, to: rowCount, by: 512) {
            try dataset.write(rows: start, try source.batch(rows: start..<min(start + 512, rowCount)).inputs.scalars)
        }
    }
}

do {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let network = try ModelZoo.make(BiganCIFAR.name, classes: 10, seed: 1).foldingBatchNorm()
    print(
        "| cache (split) | row | file | shuffled, cold | dd, cold | shuffled, warm | dd, warm | chunked layout, warm |")
    print("|---|---|---|---|---|---|---|---|")
    var conv5Cache: URL?
    for split in ["conv4", "conv5"] {
        let shape = Shape(
            Array(try network.bottom(splitAt: split).outputShape(for: Shape([1, 3, 32, 32])).dimensions.dropFirst()))
        let url = folder.appendingPathComponent("\(split).h5")
        try writeCache(url, shape: shape)
        if split == "conv5" { conv5Cache = url }
        let reader = try ActivationCacheReader(url)
        let chunkedURL = folder.appendingPathComponent("\(split)-chunked.h5")
        try writeChunkedCopy(of: reader, to: chunkedURL)
        evict(url)
        let cold = try shuffledBandwidth(reader)
        evict(url)
        let ddCold = try ddBandwidth(url)
        _ = try shuffledBandwidth(reader)
        let warm = try shuffledBandwidth(reader)
        let ddWarm = try ddBandwidth(url)
        let chunked = try ActivationCacheReader(chunkedURL)
        _ = try ddBandwidth(chunkedURL)
        let chunkedWarm = try shuffledBandwidth(chunked)
        try FileManager.default.removeItem(at: chunkedURL)
        print(
            String(
                format: "| %@ (%@) | %@ | %@ | %.2f GB/s | %.2f GB/s | %.2f GB/s | %.2f GB/s | %.2f GB/s |",
                "\(rowCount) × \(shape)", split, MemoryBudget.format(reader.rowBytes),
                MemoryBudget.format(rowCount * reader.rowBytes), cold, ddCold, warm, ddWarm, chunkedWarm))
    }

    // The headline step from memory and from the streamed file (pages warm, then cold), alternating.
    guard let conv5Cache else { exit(1) }
    let streamed = try ActivationCacheReader(conv5Cache)
    let inMemory = try streamed.loadedIntoMemory()
    let order = BatchOrder(count: rowCount, batchSize: batch, seed: 7)
    func stepSeconds(_ source: any BatchSource, start: Int) throws -> Double {
        var extractor = try GradFeatFeatures(
            network: network, splitAt: "conv5", linearize: ["conv5"], omegaBar: network.head)
        var optimizer: any Optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-5)
        let prefetcher = BatchPrefetcher(source)
        var times: [Double] = []
        for i in start..<(start + steps) {
            let t0 = now()
            let (inputs, targets) = try prefetcher.batch(
                order.indices(iteration: i), thenPrefetch: order.indices(iteration: i + 1))
            _ = try Trainer.step(
                &extractor, inputs: inputs, targets: targets, loss: SoftmaxCrossEntropy(),
                optimizer: &optimizer, clipNorm: nil, mode: .training(seed: UInt64(i)), iteration: i)
            times.append(now() - t0)
        }
        return times.sorted()[times.count / 2]
    }
    var memoryTimes: [Double] = [], streamTimes: [Double] = [], coldTimes: [Double] = []
    for round in 0..<rounds {
        let start = round * 3 * steps
        memoryTimes.append(try stepSeconds(inMemory, start: start))
        streamTimes.append(try stepSeconds(streamed, start: start + steps))
        evict(conv5Cache)
        coldTimes.append(try stepSeconds(streamed, start: start + 2 * steps))
    }
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    let (m, s, c) = (median(memoryTimes), median(streamTimes), median(coldTimes))
    print("")
    print("| headline step (bigan-cifar conv5, full, batch 128) | ms/step | img/s | ratio to memory |")
    print("|---|---|---|---|")
    print(String(format: "| from memory | %.2f | %.0f | 1.00 |", m * 1e3, Double(batch) / m))
    print(String(format: "| streamed, pages warm | %.2f | %.0f | %.2f |", s * 1e3, Double(batch) / s, m / s))
    print(String(format: "| streamed, pages evicted first | %.2f | %.0f | %.2f |", c * 1e3, Double(batch) / c, m / c))
    print("(medians of \(rounds) alternating rounds of \(steps) steps; \(rowCount) rows)")
} catch {
    FileHandle.standardError.write(Data("StreamBench: \(error)\n".utf8))
    exit(1)
}
