import Foundation
import HDF5

/// An open data-set cache (see ``DatasetCache``) that reads images a mini-batch at a time, for sets
/// that do not fit in memory.
///
/// Opening checks the format, version, dtypes and shapes and reads the labels (small: 8 bytes, or
/// `K` bytes, per image); images stay on disk until a batch asks for them.
///
/// ```swift
/// let reader = try DatasetCacheReader(url: URL(fileURLWithPath: "cifar10-train.h5"))
/// let (images, labels) = try reader.batch(indices: [7, 3, 9])   // [3 * C*H*W] UInt8, 3 labels
/// ```
///
/// HDF5 calls are serialised by the HDF5 module's lock, and the reader's state does not change after
/// opening, so one reader can be shared between tasks.
public final class DatasetCacheReader: @unchecked Sendable {
    /// The file read.
    public let url: URL
    /// Number of images `N`.
    public let count: Int
    /// `[C, H, W]` of every image.
    public let imageShape: [Int]
    /// Class names in label order (`K`).
    public let classNames: [String]
    /// Where the data came from when the cache was written.
    public let source: String
    /// The split stored in the cache.
    public let split: String
    /// Every label (held in memory).
    public let labels: ImageSet.Labels

    private let file: HDF5File
    private let images: Dataset
    private var path: String { url.path(percentEncoded: false) }

    /// Bytes per image, `C * H * W`.
    public var imageByteCount: Int { imageShape.reduce(1, *) }

    /// Whether the labels are multi-label flags.
    public var isMultiLabel: Bool {
        if case .multi = labels { return true }
        return false
    }

    /// Opens and checks a data-set cache.
    ///
    /// - Throws: ``DatasetError/fileNotFound(path:remedy:)`` or
    ///   ``DatasetError/invalidCache(path:reason:remedy:)`` naming what is wrong.
    public init(url: URL) throws(DatasetError) {
        let path = url.path(percentEncoded: false)
        func invalid(_ reason: String) -> DatasetError {
            .invalidCache(path: path, reason: reason, remedy: DatasetCache.rebuildRemedy(path))
        }
        do {
            let file = try HDF5File(url: url, mode: .readOnly)
            guard try file.hasAttribute("format") else {
                throw invalid(
                    "has no 'format' attribute: it is not a GradFeat data-set cache ('\(DatasetCache.format)')")
            }
            let format = try Self.stringAttribute(file, "format", path: path)
            guard format == DatasetCache.format else {
                throw DatasetError.invalidCache(
                    path: path, reason: "is a '\(format)' file, not a data-set cache ('\(DatasetCache.format)')",
                    remedy:
                        "Pass a file written by `gradfeat cache --format …` (activation caches are read by `gradfeat train`)."
                )
            }
            let version = try Self.intAttribute(file, "version", path: path)
            guard version == DatasetCache.version else {
                throw invalid(
                    "is a data-set cache of version \(version); this build reads version \(DatasetCache.version)")
            }

            let images = try Self.dataset(file, "images", path: path)
            guard images.elementType == .uint8 else {
                throw invalid("/images holds \(images.elementType), expected uint8")
            }
            let shape = images.shape
            guard shape.count == 4, shape.dropFirst().allSatisfy({ $0 > 0 }) else {
                throw invalid("/images has shape \(shape), expected [N, C, H, W] with C, H, W > 0")
            }
            let n = shape[0]
            let imageShape = Array(shape.dropFirst())

            let classNames = try ClassList.checked(Self.stringsAttribute(file, "class_names", path: path), path: path)
            let count = try Self.intAttribute(file, "count", path: path)
            guard count == n else {
                throw invalid("attribute count = \(count) but /images has \(n) rows")
            }
            let storedShape = try Self.intsAttribute(file, "image_shape", path: path)
            guard storedShape == imageShape else {
                throw invalid("attribute image_shape = \(storedShape) but /images has images of \(imageShape)")
            }

            let labelSet = try Self.dataset(file, "labels", path: path)
            let labelShape = labelSet.shape
            let labels: ImageSet.Labels
            switch (labelSet.elementType, labelShape.count) {
            case (.int64, 1):
                guard labelShape[0] == n else {
                    throw invalid("/labels has \(labelShape[0]) rows but /images has \(n)")
                }
                labels = .single(try labelSet.read(as: Int64.self))
            case (.int8, 2):
                guard labelShape[0] == n else {
                    throw invalid("/labels has \(labelShape[0]) rows but /images has \(n)")
                }
                guard labelShape[1] == classNames.count else {
                    throw invalid(
                        "/labels has \(labelShape[1]) columns but class_names lists \(classNames.count) classes")
                }
                labels = .multi(try labelSet.read(as: Int8.self))
            default:
                throw invalid(
                    "/labels is \(labelSet.elementType) of shape \(labelShape); expected int64 [N] (single-label) "
                        + "or int8 [N, K] (multi-label)")
            }
            try DatasetCache.validateLabels(labels, classCount: classNames.count, path: path, writing: false)

            self.url = url
            self.file = file
            self.images = images
            self.count = n
            self.imageShape = imageShape
            self.classNames = classNames
            self.source = try Self.stringAttribute(file, "source", path: path)
            self.split = try Self.stringAttribute(file, "split", path: path)
            self.labels = labels
        } catch {
            throw DatasetCache.readError(error, path: path)
        }
    }

    /// Images `rows` (`[rows.count, C, H, W]`, row-major) and their labels.
    public func batch(rows: Range<Int>) throws(DatasetError) -> (images: [UInt8], labels: ImageSet.Labels) {
        guard rows.lowerBound >= 0, rows.upperBound <= count else {
            throw .invalidCache(
                path: path, reason: "rows \(rows) requested from a cache of \(count) images",
                remedy: "Ask for rows within 0..<\(count).")
        }
        let pixels: [UInt8]
        do {
            pixels = try images.read(rows: rows, as: UInt8.self)
        } catch {
            throw DatasetCache.readError(error, path: path)
        }
        return (pixels, labels(at: rows))
    }

    /// Images at `indices`, in that order (repeats allowed), and their labels.
    public func batch(indices: [Int]) throws(DatasetError) -> (images: [UInt8], labels: ImageSet.Labels) {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw .invalidCache(
                path: path, reason: "image \(bad) requested from a cache of \(count) images",
                remedy: "Ask for indices within 0..<\(count).")
        }
        let pixels: [UInt8]
        do {
            pixels = indices.isEmpty ? [] : try images.read(rowIndices: indices, as: UInt8.self)
        } catch {
            throw DatasetCache.readError(error, path: path)
        }
        return (pixels, labels(at: indices))
    }

    /// The images at `indices` with their labels and metadata, as an ``ImageSet``.
    public func subset(_ indices: [Int]) throws(DatasetError) -> ImageSet {
        let (pixels, labels) = try batch(indices: indices)
        return makeSet(pixels, count: indices.count, labels: labels)
    }

    /// The whole set in memory.
    public func readAll() throws(DatasetError) -> ImageSet {
        let (pixels, labels) = try batch(rows: 0..<count)
        return makeSet(pixels, count: count, labels: labels)
    }

    /// Closes the file; later batches throw.
    public func close() {
        // Closing a read-only file only releases handles; a failure leaves nothing to clean up.
        _ = Result { try file.close() }
    }

    private func makeSet(_ pixels: [UInt8], count: Int, labels: ImageSet.Labels) -> ImageSet {
        ImageSet(
            images: pixels, count: count, channels: imageShape[0], height: imageShape[1], width: imageShape[2],
            labels: labels, classNames: classNames, source: source, split: split)
    }

    private func labels(at indices: some Collection<Int>) -> ImageSet.Labels {
        switch labels {
        case .single(let values):
            return .single(indices.map { values[$0] })
        case .multi(let flags):
            let k = classNames.count
            var out = [Int8]()
            out.reserveCapacity(indices.count * k)
            for i in indices { out.append(contentsOf: flags[(i * k)..<((i + 1) * k)]) }
            return .multi(out)
        }
    }

    // MARK: - Checked attribute and dataset access

    private static func dataset(_ file: HDF5File, _ name: String, path: String) throws -> Dataset {
        guard try file.objectKind(at: name) == .dataset else {
            throw DatasetError.invalidCache(
                path: path, reason: "has no /\(name) dataset (not a complete data-set cache)",
                remedy: DatasetCache.rebuildRemedy(path))
        }
        return try file.dataset(named: name)
    }

    private static func attribute(_ file: HDF5File, _ name: String, path: String) throws -> HDF5AttributeValue {
        guard try file.hasAttribute(name) else {
            throw DatasetError.invalidCache(
                path: path, reason: "lacks the attribute '\(name)'", remedy: DatasetCache.rebuildRemedy(path))
        }
        return try file.attribute(name)
    }

    private static func mismatch(_ name: String, _ expected: String, _ value: HDF5AttributeValue, path: String)
        -> DatasetError
    {
        .invalidCache(
            path: path, reason: "attribute '\(name)' holds \(value.typeName), expected \(expected)",
            remedy: DatasetCache.rebuildRemedy(path))
    }

    private static func stringAttribute(_ file: HDF5File, _ name: String, path: String) throws -> String {
        let value = try attribute(file, name, path: path)
        guard let string = String(hdf5AttributeValue: value) else {
            throw mismatch(name, "a string", value, path: path)
        }
        return string
    }

    private static func stringsAttribute(_ file: HDF5File, _ name: String, path: String) throws -> [String] {
        let value = try attribute(file, name, path: path)
        guard let strings = [String](hdf5AttributeValue: value) else {
            throw mismatch(name, "a list of strings", value, path: path)
        }
        return strings
    }

    private static func intAttribute(_ file: HDF5File, _ name: String, path: String) throws -> Int {
        let value = try attribute(file, name, path: path)
        guard let int = Int(hdf5AttributeValue: value) else { throw mismatch(name, "an integer", value, path: path) }
        return int
    }

    private static func intsAttribute(_ file: HDF5File, _ name: String, path: String) throws -> [Int] {
        let value = try attribute(file, name, path: path)
        guard let ints = [Int](hdf5AttributeValue: value) else {
            throw mismatch(name, "a list of integers", value, path: path)
        }
        return ints
    }
}
