import Datasets
import Foundation
import Layers
import Tensor

/// The images of a data-set cache read a batch at a time — zero-padded by `border` and scaled as a model expects —
/// for commands that run over a data set once (`cache --activations`) without holding it in memory. The labels are
/// held; the pixels are read per batch.
public final class DatasetCacheImages: BatchSource, @unchecked Sendable {
    // The reader's state never changes after opening; HDF5 serialises its calls.
    private let reader: DatasetCacheReader
    public let scaling: InputScaling
    public let border: Int
    public let targets: Targets
    public let classCount: Int
    /// The shape of one image as batches give it (after padding).
    public let sampleShape: Shape

    /// Opens `reader`'s images for a model with `scaling`, padded by `border` pixels.
    public init(_ reader: DatasetCacheReader, scaling: InputScaling, border: Int = 0) {
        self.reader = reader
        self.scaling = scaling
        self.border = border
        switch reader.labels {
        case let .single(labels): targets = .classes(labels.map { Int($0) })
        case let .multi(flags): targets = .multiLabel(flags: flags, classCount: reader.classNames.count)
        }
        classCount = reader.classNames.count
        sampleShape = Shape([reader.imageShape[0], reader.imageShape[1] + 2 * border, reader.imageShape[2] + 2 * border])
    }

    public var count: Int { reader.count }
    public var allTargets: Targets { targets }
    public var isStreamed: Bool { true }

    /// The images at `indices` as `ImageBatches` would give them (padded, in that order).
    func images(_ indices: [Int]) throws -> ImageBatches {
        let (pixels, _) = try reader.batch(indices: indices)
        return try ImageBatches(
            pixels: pixels, imageShape: Shape(reader.imageShape), targets: targets.gathering(indices),
            classCount: classCount, scaling: scaling
        ).padded(by: border)
    }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        try images(indices).batch(Array(indices.indices))
    }

    /// `ImageBatches.contentHash` of the padded images, read a batch at a time: the name an activation cache of
    /// them carries, whether it was made from this file or from the data set in memory.
    public func contentHash(batchSize: Int = 1024) throws -> String {
        try ImageBatches.contentHash(count: count, imageShape: sampleShape, targets: targets) { hash in
            for start in stride(from: 0, to: count, by: batchSize) {
                try images(Array(start..<min(start + batchSize, count))).pixels.withUnsafeBytes { hash.combine(bytes: $0) }
            }
        }
    }
}
