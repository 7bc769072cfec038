// Creation properties of datasets: chunking, compression, extendability.

import CHDF5

/// How a dataset is laid out and filtered on disk.
///
/// Compression, shuffling and extendability need a chunked layout; when `chunkShape` is nil a
/// chunk of whole rows of about ``targetChunkBytes`` is chosen.
///
/// ```swift
/// let options = DatasetOptions(compression: .deflate(level: 4), shuffle: true, extendable: true)
/// ```
public struct DatasetOptions: Sendable, Equatable {
    /// The compression filter.
    public enum Compression: Sendable, Equatable {
        /// No compression.
        case none
        /// gzip (deflate) at `level` 0…9.
        case deflate(level: Int)
    }

    /// Chunk dimensions (same rank as the dataset), or nil for contiguous storage / automatic chunks.
    public var chunkShape: [Int]?
    /// The compression filter.
    public var compression: Compression
    /// Whether the shuffle filter (byte transposition, runs before compression) is applied.
    public var shuffle: Bool
    /// Whether the first dimension is unlimited, so rows can be appended.
    public var extendable: Bool

    /// Approximate size of automatically chosen chunks (below libhdf5's 1 MiB chunk cache).
    public static let targetChunkBytes = 256 * 1024

    public init(
        chunkShape: [Int]? = nil, compression: Compression = .none, shuffle: Bool = false, extendable: Bool = false
    ) {
        self.chunkShape = chunkShape
        self.compression = compression
        self.shuffle = shuffle
        self.extendable = extendable
    }

    /// Contiguous storage, no filters.
    public static var contiguous: DatasetOptions { DatasetOptions() }

    /// gzip at `level` with shuffle, the usual choice for stored features and images.
    public static func compressed(level: Int = 4, extendable: Bool = false) -> DatasetOptions {
        DatasetOptions(compression: .deflate(level: level), shuffle: true, extendable: extendable)
    }

    /// The chunk dimensions to use for a dataset of `shape`, or nil for contiguous storage.
    func resolvedChunkShape(for shape: [Int], elementSize: Int) -> [Int]? {
        guard chunkShape != nil || compression != .none || shuffle || extendable else { return nil }
        if let chunkShape { return chunkShape }
        guard let rows = shape.first else { return nil }
        var rowBytes = max(1, elementSize)
        for dimension in shape.dropFirst() {
            let (product, overflow) = rowBytes.multipliedReportingOverflow(by: max(1, dimension))
            rowBytes = overflow ? Int.max : product
        }
        let limit = extendable ? Int.max : max(1, rows)
        return [max(1, min(limit, Self.targetChunkBytes / rowBytes))] + shape.dropFirst().map { max(1, $0) }
    }

    /// A dataset creation property list for `shape`. Call with the library lock held.
    func makeCreationPropertyList(shape: [Int], elementSize: Int, _ context: HDF5Context) throws -> hid_t {
        let operation = "set dataset creation properties"
        func invalid(_ message: String) -> HDF5Error {
            .invalidArgument(file: context.file, object: context.object, message: message)
        }
        if extendable && shape.isEmpty { throw invalid("a scalar dataset cannot be extendable") }
        var bytes = elementSize
        for dimension in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else { throw invalid("shape \(shape) is negative or overflows") }
            bytes = product
        }
        if case .deflate(let level) = compression, !(0...9).contains(level) {
            throw invalid("deflate level \(level) is not in 0...9")
        }
        let list = try context.check(H5Pcreate(gf_H5P_DATASET_CREATE()), operation)
        do {
            if let chunk = resolvedChunkShape(for: shape, elementSize: elementSize) {
                guard chunk.count == shape.count, !shape.isEmpty, chunk.allSatisfy({ $0 > 0 }) else {
                    throw invalid("chunk shape \(chunk) does not fit dataset shape \(shape)")
                }
                var dims = chunk.map { hsize_t($0) }
                try context.check(H5Pset_chunk(list, Int32(dims.count), &dims), operation)
            }
            if shuffle { try context.check(H5Pset_shuffle(list), operation) }
            if case .deflate(let level) = compression {
                try context.check(H5Pset_deflate(list, UInt32(level)), operation)
            }
            return list
        } catch {
            _ = H5Pclose(list)
            throw error
        }
    }
}
