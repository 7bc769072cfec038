import Datasets
import Foundation
import Layers
import Tensor

/// The images of a data-set cache read a batch at a time — zero-padded, subset, cropped and scaled as an
/// experiment asks — for data sets larger than the memory budget and for commands that pass over a data set once
/// (`cache --activations`, `predict`, `extract`). The labels are held; the pixels are read per batch, and each
/// transform is applied to the batch as `ImageBatches` applies it to the whole set, so the images are the same.
public struct DatasetCacheImages: ImageSource, @unchecked Sendable {
    // The reader's state never changes after opening; HDF5 serialises its calls.
    private let reader: DatasetCacheReader
    public let scaling: InputScaling
    public let classCount: Int
    public let targets: Targets
    public let imageShape: Shape
    /// The reader's row of each image of this set.
    private var rows: [Int]
    /// The transforms, in the order they were asked for.
    private var steps: [Step]

    private enum Step {
        case pad(Int)
        /// A crop of each image by its position in the set when the crop was asked for (`positions[i]` for image
        /// `i` now, after later subsets).
        case crop(TestCrops, view: Int, side: Int, seed: UInt64, positions: [Int])
    }

    /// Opens `reader`'s images for a model with `scaling`, padded by `border` pixels.
    public init(_ reader: DatasetCacheReader, scaling: InputScaling, border: Int = 0) {
        self.reader = reader
        self.scaling = scaling
        switch reader.labels {
        case let .single(labels): targets = .classes(labels.map { Int($0) })
        case let .multi(flags): targets = .multiLabel(flags: flags, classCount: reader.classNames.count)
        }
        classCount = reader.classNames.count
        let shape = reader.imageShape
        imageShape = border > 0 ? [shape[0], shape[1] + 2 * border, shape[2] + 2 * border] : Shape(shape)
        rows = Array(0..<reader.count)
        steps = border > 0 ? [.pad(border)] : []
    }

    private init(_ base: DatasetCacheImages, rows: [Int], targets: Targets, imageShape: Shape, steps: [Step]) {
        reader = base.reader
        scaling = base.scaling
        classCount = base.classCount
        self.targets = targets
        self.imageShape = imageShape
        self.rows = rows
        self.steps = steps
    }

    public var count: Int { rows.count }
    public var isStreamed: Bool { true }
    public var residentBytes: Int { 0 }

    public func images(_ indices: [Int]) throws -> ImageBatches {
        try checkIndices(indices, of: "\(reader.url.path): ")
        let (pixels, _) = try reader.batch(indices: indices.map { rows[$0] })
        var images = try ImageBatches(
            pixels: pixels, imageShape: Shape(reader.imageShape), targets: targets.gathering(indices),
            classCount: classCount, scaling: scaling)
        for step in steps {
            switch step {
            case let .pad(border):
                images = images.padded(by: border)
            case let .crop(crops, view, side, seed, positions):
                images = images.cropped(
                    crops, view: view, side: side, seed: seed, positions: indices.map { positions[$0] })
            }
        }
        return images
    }

    public func padded(by border: Int) -> DatasetCacheImages {
        guard border > 0 else { return self }
        return DatasetCacheImages(
            self, rows: rows, targets: targets,
            imageShape: [imageShape[0], imageShape[1] + 2 * border, imageShape[2] + 2 * border],
            steps: steps + [.pad(border)])
    }

    public func subset(_ indices: [Int]) -> DatasetCacheImages {
        let steps = self.steps.map { step -> Step in
            guard case let .crop(crops, view, side, seed, positions) = step else { return step }
            return .crop(crops, view: view, side: side, seed: seed, positions: indices.map { positions[$0] })
        }
        return DatasetCacheImages(
            self, rows: indices.map { rows[$0] }, targets: targets.gathering(indices),
            imageShape: imageShape, steps: steps)
    }

    public func cropped(_ crops: TestCrops, view: Int, side: Int, seed: UInt64) -> DatasetCacheImages {
        DatasetCacheImages(
            self, rows: rows, targets: targets, imageShape: [imageShape[0], side, side],
            steps: steps + [.crop(crops, view: view, side: side, seed: seed, positions: Array(0..<count))])
    }
}
