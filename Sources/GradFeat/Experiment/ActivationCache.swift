import Foundation
import Layers
import Tensor

/// The frozen bottom's outputs `z0 = f_θ1(x)` for a whole data set, computed once in mini-batches — into memory
/// (`compute`) or streamed into an activation cache file (`write`), which never holds more than one batch.
public enum ActivationCache {
    /// `z0` for every sample of `data`, with its targets, in order, in memory.
    public static func compute(
        network: some BaseNetwork, splitAt split: String, data: some BatchSource, batchSize: Int = 256,
        label: String = "cache", quiet: Bool = false
    ) throws -> InMemoryBatches {
        let bottom = try network.bottom(splitAt: split).foldingBatchNorm()
        let sampleShape = try outputShape(of: bottom, for: data)
        var storage = [Float](repeating: 0, count: data.count * sampleShape.count)
        try forEachBatch(of: bottom, on: data, batchSize: batchSize, label: label, quiet: quiet) { start, z0 in
            storage.replaceSubrange((start * sampleShape.count)..<(start * sampleShape.count + z0.count), with: z0)
        }
        return try InMemoryBatches(
            inputs: Tensor(shape: Shape([data.count] + sampleShape.dimensions), scalars: storage),
            targets: try data.allTargets, classCount: data.classCount)
    }

    /// Streams `z0` of every sample of `data` into the activation cache `url` (written atomically; see
    /// `ActivationCacheFile.write`), a batch at a time: memory holds one batch of images and activations.
    public static func write(
        network: some BaseNetwork, splitAt split: String, data: some BatchSource,
        producer: ActivationCacheFile.Producer,
        to url: URL, batchSize: Int = 256, label: String = "cache", quiet: Bool = false
    ) throws {
        let bottom = try network.bottom(splitAt: split).foldingBatchNorm()
        try ActivationCacheFile.write(
            to: url, producer: producer, sampleShape: try outputShape(of: bottom, for: data),
            targets: try data.allTargets, classCount: data.classCount
        ) { writeRows in
            try forEachBatch(of: bottom, on: data, batchSize: batchSize, label: label, quiet: quiet, writeRows)
        }
    }

    /// The shape of one sample's `z0`.
    static func outputShape(of bottom: Sequential, for data: some BatchSource) throws -> Shape {
        Shape(Array(try bottom.outputShape(for: Shape([1] + data.sampleShape.dimensions)).dimensions.dropFirst()))
    }

    /// Runs `bottom` over `data` in order, `batchSize` samples at a time, handing each batch's `z0` (flattened) to
    /// `body` with the index of its first sample; reports progress.
    static func forEachBatch(
        of bottom: Sequential, on data: some BatchSource, batchSize: Int, label: String, quiet: Bool,
        _ body: (_ start: Int, _ z0: [Float]) throws -> Void
    ) throws {
        let progress = ProgressReporter(label, total: data.count, unit: "img", quiet: quiet)
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, data.count))
            try body(start, try bottom.forward(try data.batch(indices).inputs, mode: .evaluation).scalars)
            progress.update(start + indices.count)
        }
    }
}
