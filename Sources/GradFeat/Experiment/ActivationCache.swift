import Layers
import Tensor

/// The frozen bottom's outputs `z0 = f_θ1(x)` for a whole data set, computed once in mini-batches.
public enum ActivationCache {
    /// `z0` for every sample of `data`, with its targets, in order.
    public static func compute(
        network: some BaseNetwork, splitAt split: String, data: some BatchSource, batchSize: Int = 256,
        label: String = "cache", quiet: Bool = false
    ) throws -> InMemoryBatches {
        let bottom = try network.bottom(splitAt: split).foldingBatchNorm()
        let sampleShape = try bottom.outputShape(for: Shape([1] + data.sampleShape.dimensions)).dimensions.dropFirst()
        let sampleCount = sampleShape.reduce(1, *)
        var storage = [Float](repeating: 0, count: data.count * sampleCount)
        let progress = ProgressReporter(label, total: data.count, unit: "img", quiet: quiet)
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, data.count))
            let z0 = try bottom.forward(try data.batch(indices).inputs, mode: .evaluation)
            storage.replaceSubrange((start * sampleCount)..<((start + indices.count) * sampleCount), with: z0.scalars)
            progress.update(start + indices.count)
        }
        let targets = try data.batch(Array(0..<data.count)).targets
        return try InMemoryBatches(
            inputs: Tensor(shape: Shape([data.count] + sampleShape), scalars: storage), targets: targets,
            classCount: data.classCount)
    }
}
