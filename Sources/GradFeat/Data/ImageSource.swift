import Layers
import Tensor

/// Images a model reads a batch at a time, with the per-image transforms an experiment applies — zero padding,
/// seeded subsets, crops. `ImageBatches` holds the pixels in memory; `DatasetCacheImages` reads them from a
/// data-set cache on disk a batch at a time. Both give the same images bit for bit, so whether a data set is held
/// or streamed (`--memory-budget`) never changes a result.
public protocol ImageSource: BatchSource {
    /// `[C, H, W]` of one image as batches give it.
    var imageShape: Shape { get }
    var scaling: InputScaling { get }
    var targets: Targets { get }
    /// The bytes the pixels occupy in memory: all of them when held, none when read a batch at a time.
    var residentBytes: Int { get }
    /// The images at `indices`, in that order, in memory.
    func images(_ indices: [Int]) throws -> ImageBatches
    /// The images with a border of `border` zero pixels.
    func padded(by border: Int) -> Self
    /// The images at `indices` as a new set.
    func subset(_ indices: [Int]) -> Self
    /// View `view` of `crops` of every image (`TestCrops.placement`, by the image's position in this set).
    func cropped(_ crops: TestCrops, view: Int, side: Int, seed: UInt64) -> Self
    /// `ImageBatches.contentHash` of the images, read `batchSize` at a time: the name an activation cache of them
    /// carries, whether they were held in memory or read from a file.
    func contentHash(batchSize: Int) throws -> String
}

extension ImageSource {
    public var sampleShape: Shape { imageShape }
    public var allTargets: Targets { targets }

    /// Bytes of the pixels when held in memory (one byte a pixel and channel).
    public var pixelBytes: Int { MemoryLedger.product(count, imageShape.count) }

    /// The centre `side`×`side` crop of every image (torchvision's `CenterCrop`).
    /// Throws unless every index names an image of this set (`what` names the set in the message).
    func checkIndices(_ indices: [Int], of what: String) throws {
        if let bad = indices.first(where: { !(0..<count).contains($0) }) {
            throw GradFeatError.invalidConfiguration("\(what)image \(bad) of a set of \(count) was asked for")
        }
    }

    public func centreCropped(to side: Int) -> Self { cropped(.none, view: 0, side: side, seed: 0) }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        try images(indices).batch(Array(indices.indices))
    }

    public func contentHash() throws -> String { try contentHash(batchSize: 1024) }

    public func contentHash(batchSize: Int) throws -> String {
        try ImageBatches.contentHash(count: count, imageShape: imageShape, targets: targets) { hash in
            for start in stride(from: 0, to: count, by: batchSize) {
                try images(Array(start..<min(start + batchSize, count))).pixels.withUnsafeBytes {
                    hash.combine(bytes: $0)
                }
            }
        }
    }
}
