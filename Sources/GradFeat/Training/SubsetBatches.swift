import Layers
import Tensor

/// The samples of another source at `indices`, in that order: a held-out part of a training set.
public struct SubsetBatches: BatchSource {
    public var base: any BatchSource
    public var indices: [Int]

    public init(_ base: any BatchSource, indices: [Int]) {
        self.base = base
        self.indices = indices
    }

    public var count: Int { indices.count }
    public var sampleShape: Shape { base.sampleShape }
    public var classCount: Int { base.classCount }
    public var isStreamed: Bool { base.isStreamed }
    public var allTargets: Targets { get throws { try base.allTargets.gathering(indices) } }

    public func batch(_ positions: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        try base.batch(positions.map { indices[$0] })
    }
}
