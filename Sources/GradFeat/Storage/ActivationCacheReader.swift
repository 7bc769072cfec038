import Foundation
import HDF5
import Layers
import Tensor

/// An activation cache streamed from disk a mini-batch at a time, for caches that do not fit in memory: a
/// `BatchSource` the trainer reads like the in-memory one. Labels are held in memory; activations are read per batch.
public final class ActivationCacheReader: BatchSource, @unchecked Sendable {
    // The file and dataset handles never change after opening; HDF5 serialises every call behind its lock.
    private let file: HDF5File
    private let activations: HDF5.Dataset
    private let url: URL
    public let targets: Targets
    public let classCount: Int
    public let producer: ActivationCacheFile.Producer
    public let sampleShape: Shape

    /// Opens a cache after checking its format and, when given, its producer (as `ActivationCacheFile.load`).
    public init(_ url: URL, expecting expected: ActivationCacheFile.Producer? = nil) throws {
        self.url = url
        (file, producer, targets, classCount) = try ActivationCacheFile.open(url, expecting: expected)
        activations = try file.dataset(named: "activations")
        sampleShape = Shape(Array(activations.shape.dropFirst()))
        guard activations.shape.first == targets.count else {
            throw GradFeatError.invalidConfiguration(
                "activation cache \(url.path): \(activations.shape.first ?? 0) activations but \(targets.count) labels; rebuild it")
        }
    }

    public var count: Int { targets.count }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        let values: [Float] = try activations.read(rowIndices: indices)
        try ActivationCacheFile.requireFinite(values, rowLength: sampleShape.count, in: url) { indices[$0] }
        return (try Tensor(shape: Shape([indices.count] + sampleShape.dimensions), scalars: values), targets.gathering(indices))
    }

    /// Rows `range` in order (the fastest read: one hyperslab).
    public func batch(rows range: Range<Int>) throws -> (inputs: Tensor, targets: Targets) {
        let values: [Float] = try activations.read(rows: range)
        try ActivationCacheFile.requireFinite(values, rowLength: sampleShape.count, in: url) { range.lowerBound + $0 }
        return (try Tensor(shape: Shape([range.count] + sampleShape.dimensions), scalars: values),
                targets.gathering(Array(range)))
    }
}
