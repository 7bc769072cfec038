import Foundation
import HDF5

/// The *data-set cache*: a decoded ``ImageSet`` in one HDF5 file, so that a JPEG tree, a `.mat` file
/// or an archive is decoded once and later runs (and h5py) read plain arrays.
///
/// ```
/// /images   uint8 [N, C, H, W]   chunks of whole rows (≤ 16), gzip level 4 + shuffle, N extendable
/// /labels   int64 [N]            single-label: class index in 0..<K
///           int8  [N, K]         multi-label: 1 present, 0 absent, -1 difficult
/// attributes of /:
///   format = "gradfeat-dataset"   version = 1
///   class_names [String] (K)      source (String)   split (String)
///   count (Int64, = N)            image_shape [Int64] (= [C, H, W])
/// ```
///
/// Writes are atomic (`HDF5File.writeAtomically(to:format:version:_:)`): a failed or interrupted
/// write never leaves a file under the target name. ``read(_:)`` loads the whole set;
/// ``DatasetCacheReader`` keeps the file open and reads mini-batches of rows. Both check the
/// format, version, dtypes and shapes and throw ``DatasetError/invalidCache(path:reason:remedy:)``
/// (or ``DatasetError/fileNotFound(path:remedy:)``) naming the file and what to do.
/// docs/FORMATS.md has an h5py snippet.
public enum DatasetCache {
    /// Value of the root `format` attribute.
    public static let format = "gradfeat-dataset"
    /// Value of the root `version` attribute this code writes and reads.
    public static let version = 1
    /// Most rows per `/images` chunk: random mini-batches decompress whole chunks, so keep them small.
    public static let maximumChunkRows = 16
    /// Target size of an `/images` chunk; large images get one row per chunk.
    public static let targetChunkBytes = 64 * 1024

    /// Images per part when a loader decodes a set a part at a time for writing (150 MiB of 224×224 RGB).
    public static let partImages = 1024

    /// Rows per `/images` chunk for images of `imageBytes` bytes: about 64 KiB, 1 to 16 rows.
    public static func chunkRows(imageBytes: Int) -> Int {
        max(1, min(maximumChunkRows, targetChunkBytes / max(1, imageBytes)))
    }

    /// Writes `set` to `url` atomically.
    ///
    /// - Parameters:
    ///   - set: the images and labels; single labels must lie in `0..<K`, flags in `-1...1`.
    ///   - url: the target file; its folder must exist. An existing file is replaced only once the
    ///     new one is complete.
    ///   - progress: called with the number of image rows written so far (from the writing thread).
    /// - Throws: ``DatasetError/invalidCache(path:reason:remedy:)`` when the labels are out of range
    ///   or the file cannot be written; no file is left at `url` (an old one stays as it was).
    public static func write(
        _ set: ImageSet, to url: URL, progress: ((Int) -> Void)? = nil
    ) throws(DatasetError) {
        do {
            try write(to: url, progress: progress) { append in try append(set) }
        } catch let error as DatasetError {
            throw error
        } catch {
            throw .invalidCache(
                path: url.path(percentEncoded: false), reason: "cannot be written: \(error)",
                remedy: "No file was left there.")
        }
    }

    /// Writes the parts `produce` hands to `append`, in order, as one cache at `url` (atomically): a set larger
    /// than memory is written with one part's pixels held at a time. Every part must share the first one's image
    /// shape, class names, label kind, source and split; at least one part (it may be empty) is required. An error
    /// `produce` throws (the loader's) is rethrown as it is; the file's own problems are
    /// ``DatasetError/invalidCache(path:reason:remedy:)``. Either way no file is left at `url`.
    public static func write(
        to url: URL, progress: ((Int) -> Void)? = nil,
        parts produce: (_ append: (ImageSet) throws -> Void) throws -> Void
    ) throws {
        let path = url.path(percentEncoded: false)
        do {
            try HDF5File.writeAtomically(to: url, format: format, version: version) { file in
                var first: ImageSet?
                var images: Dataset?
                var written = 0
                var single: [Int64] = [], multi: [Int8] = []
                try produce { part in
                    try validateLabels(of: part, path: path)
                    if let first {
                        if let problem = first.mismatch(ofPart: part) {
                            throw DatasetError.invalidCache(
                                path: path, reason: problem,
                                remedy:
                                    "Fix the loader: every part of a set has one shape, class list and split; nothing was written."
                            )
                        }
                    } else {
                        first = part
                        try file.setAttribute("class_names", part.classNames)
                        try file.setAttribute("source", part.source)
                        try file.setAttribute("split", part.split)
                        try file.setAttribute("image_shape", [part.channels, part.height, part.width])
                        let rows = chunkRows(imageBytes: part.imageByteCount)
                        images = try file.createDataset(
                            "images", elementType: .uint8, shape: [0, part.channels, part.height, part.width],
                            options: DatasetOptions(
                                chunkShape: [rows, part.channels, part.height, part.width],
                                compression: .deflate(level: 4), shuffle: true, extendable: true))
                    }
                    // Whole chunks at a time, about 4 MiB per call, so progress can be shown (a part's last block,
                    // and so the next part's first, may fill a chunk partly).
                    let stride = part.imageByteCount
                    let rows = chunkRows(imageBytes: stride)
                    let block = max(rows, (4 << 20) / max(1, stride) / rows * rows)
                    for start in Swift.stride(from: 0, to: part.count, by: block) {
                        let end = min(part.count, start + block)
                        try images?.append(Array(part.images[(start * stride)..<(end * stride)]))
                        progress?(written + end)
                    }
                    written += part.count
                    switch part.labels {
                    case .single(let values): single += values
                    case .multi(let flags): multi += flags
                    }
                }
                guard let first else {
                    throw DatasetError.invalidCache(
                        path: path, reason: "no images were given to write",
                        remedy: "Fix the loader; nothing was written.")
                }
                try file.setAttribute("count", written)
                let labelOptions = written == 0 ? DatasetOptions.contiguous : DatasetOptions.compressed(level: 4)
                if first.isMultiLabel {
                    let labels = try file.createDataset(
                        "labels", values: multi, shape: [written, first.classCount], options: labelOptions)
                    try labels.setAttribute("encoding", "1 present, 0 absent, -1 difficult")
                } else {
                    let labels = try file.createDataset(
                        "labels", values: single, shape: [written], options: labelOptions)
                    try labels.setAttribute("encoding", "class index in 0..<K (K = len(class_names))")
                }
            }
        } catch let error as HDF5Error {
            throw DatasetError.invalidCache(
                path: path, reason: "cannot be written: \(error.summary)",
                remedy:
                    "Check that its folder exists and is writable and that the disk has space; no file was left there.")
        }
    }

    /// Reads a whole data-set cache into memory.
    ///
    /// - Throws: ``DatasetError/fileNotFound(path:remedy:)`` when there is no file;
    ///   ``DatasetError/invalidCache(path:reason:remedy:)`` when it is truncated, corrupt, of
    ///   another format or version, or its arrays and attributes disagree.
    public static func read(_ url: URL) throws(DatasetError) -> ImageSet {
        let reader = try DatasetCacheReader(url: url)
        defer { reader.close() }
        return try reader.readAll()
    }

    /// Checks that single labels lie in `0..<K` and flags in `-1...1`.
    static func validateLabels(of set: ImageSet, path: String) throws(DatasetError) {
        try validateLabels(set.labels, classCount: set.classCount, path: path, writing: true)
    }

    static func validateLabels(
        _ labels: ImageSet.Labels, classCount: Int, path: String, writing: Bool
    ) throws(DatasetError) {
        let remedy =
            writing
            ? "Fix the loader or the class list; nothing was written."
            : rebuildRemedy(path)
        switch labels {
        case .single(let values):
            if let (i, bad) = values.enumerated().first(where: { $0.element < 0 || $0.element >= Int64(classCount) }) {
                throw .invalidCache(
                    path: path, reason: "label \(bad) of image \(i) is outside 0..<\(classCount) (the class names)",
                    remedy: remedy)
            }
        case .multi(let flags):
            if let (i, bad) = flags.enumerated().first(where: { $0.element < -1 || $0.element > 1 }) {
                throw .invalidCache(
                    path: path,
                    reason:
                        "flag \(bad) of image \(i / max(1, classCount)), class \(i % max(1, classCount)) is not 1, 0 or -1",
                    remedy: remedy)
            }
        }
    }

    /// What to do with a cache that cannot be used.
    static func rebuildRemedy(_ path: String) -> String {
        "Rebuild it with `gradfeat cache --format FORMAT --source DATA --split SPLIT --output \(path)` (the new file "
            + "replaces it only once complete)."
    }

    /// A ``DatasetError`` for an HDF5 failure while reading `path`.
    static func readError(_ error: any Error, path: String) -> DatasetError {
        if let error = error as? DatasetError { return error }
        guard let error = error as? HDF5Error else {
            return .invalidCache(path: path, reason: "cannot be read: \(error)", remedy: rebuildRemedy(path))
        }
        switch error {
        case .fileNotFound:
            return .fileNotFound(
                path: path,
                remedy:
                    "Write it first with `gradfeat cache --format FORMAT --source DATA --split SPLIT --output \(path)`."
            )
        case .fileSystem(_, let operation, let message):
            // Permissions, a folder: nothing is wrong with the data, so no advice to rebuild it.
            return .ioFailed(path: path, reason: "\(operation): \(message)")
        case .notHDF5:
            return .invalidCache(
                path: path, reason: "is not an HDF5 file (or was cut off before its header)",
                remedy: rebuildRemedy(path))
        case .library(_, _, let operation, let message):
            // HDF5's stack is long; its innermost line says what happened (e.g. "truncated file: eof = …").
            let detail =
                message.split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            let what =
                operation == "open file"
                ? "cannot be opened: the file is truncated or corrupt"
                : "cannot be read (\(operation)): the file is corrupt"
            return .invalidCache(
                path: path, reason: what + (detail.isEmpty ? "" : " (HDF5: \(detail))"), remedy: rebuildRemedy(path))
        default:
            return .invalidCache(path: path, reason: "cannot be read: \(error.summary)", remedy: rebuildRemedy(path))
        }
    }
}
