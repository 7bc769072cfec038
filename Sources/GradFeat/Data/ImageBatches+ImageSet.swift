import Datasets
import Layers
import Tensor

extension ImageBatches {
    /// The images and labels of a loaded data set, scaled as `scaling` says when batches are drawn.
    public init(_ set: ImageSet, scaling: InputScaling) throws {
        let targets: Targets
        switch set.labels {
        case let .single(labels): targets = .classes(labels.map { Int($0) })
        case let .multi(flags): targets = .multiLabel(flags: flags, classCount: set.classCount)
        }
        try self.init(
            pixels: set.images, imageShape: [set.channels, set.height, set.width], targets: targets,
            classCount: set.classCount, scaling: scaling)
    }
}
