import Foundation
import HDF5
import Layers
import Tensor

/// An activation cache streamed from disk a mini-batch at a time, for caches that do not fit in memory: a
/// `BatchSource` the trainer reads like the in-memory one. Labels are held in memory; activations are read per batch.
///
/// Caches written by this version store their activations contiguously, and a batch of shuffled rows is one
/// `pread` per row from the page cache or the disk (`StoredRows`), outside libhdf5's lock. Older, chunked caches are
/// read through libhdf5, a chunk per row.
public final class ActivationCacheReader: BatchSource, @unchecked Sendable {
    // The handles never change after opening; HDF5 serialises every call behind its lock, and `StoredRows` reads
    // with `pread`, which is safe from any thread.
    private let file: HDF5File
    private let activations: HDF5.Dataset
    private let rows: StoredRows?
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
                "activation cache \(url.path): \(activations.shape.first ?? 0) activations but \(targets.count) "
                    + "labels; it is rebuilt when you delete it or pass another --output")
        }
        let bytes = activations.shape.reduce((MemoryLayout<Float>.size, false)) { product, dimension in
            let (value, overflow) = product.0.multipliedReportingOverflow(by: dimension)
            return (value, product.1 || overflow)
        }
        guard !bytes.1 else {
            throw GradFeatError.damagedFile(
                path: url.path,
                problem: "/activations claims the shape \(activations.shape), more bytes than can exist",
                fix: "the file is damaged: delete it to have it rebuilt")
        }
        guard activations.elementType == .float32 else {
            throw GradFeatError.invalidConfiguration(
                "activation cache \(url.path): /activations holds \(activations.elementType), not float32; it is "
                    + "rebuilt when you delete it or pass another --output")
        }
        rows = try activations.contiguousStorage().map { try StoredRows(url: url, storage: $0) }
    }

    public var count: Int { targets.count }
    public var allTargets: Targets { targets }

    /// The reader streams: the trainer reads the next batch while a step computes.
    public var isStreamed: Bool { true }

    /// The bytes of one sample's activations.
    public var rowBytes: Int { sampleShape.count * MemoryLayout<Float>.size }

    /// Whether shuffled rows are read straight from the file (caches written by this version) rather than through
    /// libhdf5's chunks.
    public var readsRowsDirectly: Bool { rows != nil }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        let length = sampleShape.count
        let values: [Float]
        if let rows {
            values = try [Float](unsafeUninitializedCapacity: indices.count * length) { buffer, initialized in
                try rows.read(indices, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = indices.count * length
            }
        } else {
            values = try activations.read(rowIndices: indices)
        }
        try ActivationCacheFile.requireFinite(values, rowLength: length, in: url) { indices[$0] }
        return (
            try Tensor(shape: Shape([indices.count] + sampleShape.dimensions), scalars: values),
            targets.gathering(indices)
        )
    }

    /// Rows `range` in order.
    public func batch(rows range: Range<Int>) throws -> (inputs: Tensor, targets: Targets) {
        try batch(Array(range))
    }

    /// The whole cache in memory.
    public func loadedIntoMemory() throws -> InMemoryBatches {
        let (inputs, targets) = try batch(rows: 0..<count)
        return try InMemoryBatches(inputs: inputs, targets: targets, classCount: classCount)
    }
}
