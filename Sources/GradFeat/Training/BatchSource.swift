import Layers
import Tensor

/// Labelled samples read by index, a mini-batch at a time: in memory, or streamed from an HDF5 cache.
public protocol BatchSource: Sendable {
    var count: Int { get }
    /// The shape of one sample.
    var sampleShape: Shape { get }
    var classCount: Int { get }
    /// The inputs [n, sampleShape…] and targets of the samples at `indices`, in that order.
    func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets)
    /// Every sample's target, in order, without reading the inputs (default: from a batch of all samples; sources
    /// that stream override it).
    var allTargets: Targets { get throws }
    /// Whether batches come from disk, so that reading the next one while a step computes pays (default false).
    var isStreamed: Bool { get }
}

extension BatchSource {
    public var allTargets: Targets { get throws { try batch(Array(0..<count)).targets } }
    public var isStreamed: Bool { false }
}

/// Samples held in memory as one Float tensor [N, …].
public struct InMemoryBatches: BatchSource {
    public var inputs: Tensor
    public var targets: Targets
    public var classCount: Int

    public init(inputs: Tensor, targets: Targets, classCount: Int) throws {
        guard inputs.rank >= 1, inputs.shape[0] == targets.count else {
            throw GradFeatError.invalidConfiguration(
                "inputs \(inputs.shape) and \(targets.count) labels disagree on the number of samples")
        }
        self.inputs = inputs
        self.targets = targets
        self.classCount = classCount
    }

    public var count: Int { inputs.shape[0] }
    public var sampleShape: Shape { Shape(Array(inputs.shape.dimensions.dropFirst())) }
    public var allTargets: Targets { targets }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        (inputs.gathering(rows: indices), targets.gathering(indices))
    }

    /// The first `n` samples (or all, when fewer).
    public func prefix(_ n: Int) throws -> InMemoryBatches {
        let indices = Array(0..<min(n, count))
        let (x, t) = try batch(indices)
        return try InMemoryBatches(inputs: x, targets: t, classCount: classCount)
    }
}

extension Targets {
    /// The targets of consecutive batches as one (all of one kind; real-valued targets are refused).
    public static func concatenating(_ parts: [Targets]) throws -> Targets {
        var labels: [Int] = [], flags: [Int8] = []
        var classCount: Int?
        for part in parts {
            switch part {
            case let .classes(some) where classCount == nil: labels += some
            case let .multiLabel(some, k) where labels.isEmpty && (classCount ?? k) == k:
                flags += some
                classCount = k
            case .values:
                throw GradFeatError.invalidConfiguration("real-valued targets have no classes to score")
            default:
                throw GradFeatError.invalidConfiguration("targets of different kinds cannot be joined into one set")
            }
        }
        return classCount.map { .multiLabel(flags: flags, classCount: $0) } ?? .classes(labels)
    }

}

/// The seeded order of mini-batches: epoch `e` visits a permutation drawn from `(seed, e)`, batches drop the last
/// incomplete one. Iteration `i`'s batch depends only on `(seed, i)`, so a resumed run sees the same batches.
public struct BatchOrder: Sendable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64

    public init(count: Int, batchSize: Int, seed: UInt64) {
        self.count = count
        self.batchSize = min(batchSize, count)
        self.seed = seed
    }

    public var batchesPerEpoch: Int { max(1, count / max(batchSize, 1)) }

    public func permutation(epoch: Int) -> [Int] {
        var rng = SeededRandom(seed: seed &+ 0x5EED &* UInt64(epoch + 1))
        var order = Array(0..<count)
        order.shuffle(using: &rng)
        return order
    }

    public func indices(iteration: Int) -> [Int] {
        let (epoch, position) = (iteration / batchesPerEpoch, iteration % batchesPerEpoch)
        return Array(permutation(epoch: epoch)[(position * batchSize)..<((position + 1) * batchSize)])
    }
}

/// ``BatchOrder``'s batches in iteration order, keeping the current epoch's permutation instead of drawing it for
/// every batch.
public struct BatchCursor: Sendable {
    public let order: BatchOrder
    private var permutations: [Int: [Int]] = [:]

    public init(_ order: BatchOrder) { self.order = order }

    /// Iteration `iteration`'s indices, the same as `order.indices(iteration:)`.
    public mutating func indices(_ iteration: Int) -> [Int] {
        let epoch = iteration / order.batchesPerEpoch
        if permutations[epoch] == nil {
            permutations = permutations.filter { $0.key == epoch - 1 }
            permutations[epoch] = order.permutation(epoch: epoch)
        }
        let position = (iteration % order.batchesPerEpoch) * order.batchSize
        return Array(permutations[epoch]![position..<(position + order.batchSize)])
    }
}
