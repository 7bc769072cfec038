// An HDF5 file on disk.

import CHDF5
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open HDF5 file; as an ``HDF5Container`` it is also the root group "/".
///
/// The file is closed when the last reference to it and to its groups and datasets goes away,
/// or explicitly with ``close()``. Everything GradFeat writes goes through
/// ``writeAtomically(to:format:version:_:)``:
///
/// ```swift
/// try HDF5File.writeAtomically(to: url, format: "gradfeat.features", version: 1) { file in
///     try file.createDataset("features", values: features, shape: [n, d], options: .compressed())
/// }
/// let file = try HDF5File(url: url)
/// try file.requireFormat("gradfeat.features", version: 1)
/// ```
public final class HDF5File: HDF5Container {
    /// How a file is opened.
    public enum Mode: Sendable {
        /// Open an existing file for reading.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
        /// Create a new file, truncating any existing one.
        case create
    }

    public let handle: HDF5Handle
    /// The file's location.
    public let url: URL
    /// The file's path on disk.
    public let path: String
    /// The mode the file was opened with.
    public let mode: Mode

    /// Opens or creates the file at `url`.
    ///
    /// - Throws: `HDF5Error.fileNotFound`, `.notHDF5`, or `.library` (e.g. for a truncated file,
    ///   or one still open for writing elsewhere), never a crash.
    public init(url: URL, mode: Mode = .readOnly) throws {
        let path = url.path(percentEncoded: false)
        let context = HDF5Context(file: path, object: "/")
        if mode != .create {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw HDF5Error.fileNotFound(file: path)
            }
            // Said here, not as libhdf5's "unable to open file", which reads like a damaged file.
            if isDirectory.boolValue {
                throw HDF5Error.fileSystem(file: path, operation: "open", message: "it is a folder, not an HDF5 file")
            }
            if access(path, mode == .readOnly ? R_OK : R_OK | W_OK) != 0 {
                throw HDF5Error.fileSystem(
                    file: path, operation: mode == .readOnly ? "read" : "open for writing", message: errnoMessage())
            }
        }
        let id = try HDF5Library.locked {
            // With the strong close degree, close() really closes the file even while group or
            // dataset handles are still referenced; they report `HDF5Error.closed` afterwards.
            let access = try context.check(H5Pcreate(gf_H5P_FILE_ACCESS()), "open file")
            defer { _ = H5Pclose(access) }
            try context.check(H5Pset_fclose_degree(access, H5F_CLOSE_STRONG), "open file")
            switch mode {
            case .create:
                return try context.check(H5Fcreate(path, gf_H5F_ACC_TRUNC(), gf_H5P_DEFAULT(), access), "create file")
            case .readOnly, .readWrite:
                guard try context.isTrue(gf_H5Fis_hdf5(path), "open file") else { throw HDF5Error.notHDF5(file: path) }
                let flags = mode == .readOnly ? gf_H5F_ACC_RDONLY() : gf_H5F_ACC_RDWR()
                return try context.check(H5Fopen(path, flags, access), "open file")
            }
        }
        self.handle = HDF5Handle(id: id, kind: .file, context: context, owner: nil)
        self.url = url
        self.path = path
        self.mode = mode
    }

    /// Opens or creates the file at `path`.
    public convenience init(path: String, mode: Mode = .readOnly) throws {
        try self.init(url: URL(fileURLWithPath: path), mode: mode)
    }

    /// Writes buffered data to disk.
    public func flush() throws {
        try withID { id, context in try context.check(H5Fflush(id, H5F_SCOPE_GLOBAL), "flush file") }
    }

    /// Closes the file and all its open groups and datasets. Further use of them throws
    /// `HDF5Error.closed`; closing twice is allowed.
    public func close() throws {
        try HDF5Library.locked { try handle.close() }
    }

    // MARK: - Format

    /// Checks the `format` and `version` attributes that every GradFeat file carries.
    /// - Throws: `HDF5Error.formatMismatch` (or `.attributeNotFound`) naming what was found.
    public func requireFormat(_ format: String, version: Int) throws {
        let foundFormat = try attribute("format", as: String.self)
        let foundVersion = try attribute("version", as: Int.self)
        guard foundFormat == format, foundVersion == version else {
            throw HDF5Error.formatMismatch(
                file: path, expected: "\(format) version \(version)", found: "\(foundFormat) version \(foundVersion)")
        }
    }

    // MARK: - Atomic writes

    /// Writes a new file at `url` atomically: readers see either the old file or the complete new one.
    ///
    /// Creates `<name>.tmp-<pid>` next to `url`, sets the `format` and `version` attributes when
    /// given, runs `body`, closes and fsyncs the file, renames it onto `url` and fsyncs the
    /// directory. If anything throws, the temporary file is removed and the error rethrown; an
    /// existing file at `url` is left untouched.
    public static func writeAtomically(
        to url: URL, format: String? = nil, version: Int? = nil, _ body: (HDF5File) throws -> Void
    ) throws {
        let target = url.path(percentEncoded: false)
        let directory = url.deletingLastPathComponent().path(percentEncoded: false)
        TemporaryFile.removeStale(for: url)
        let temporary = TemporaryFile.url(for: url)
        let temporaryPath = temporary.path(percentEncoded: false)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HDF5Error.fileSystem(
                file: target, operation: "write", message: "the folder \(directory) does not exist; create it first")
        }
        do {
            let file = try HDF5File(url: temporary, mode: .create)
            do {
                if let format { try file.setAttribute("format", format) }
                if let version { try file.setAttribute("version", version) }
                try body(file)
                try file.close()
            } catch {
                // The first error is the one to report; the temporary file is removed below.
                _ = Result { try file.close() }
                throw error
            }
            try syncToDisk(temporaryPath)
            guard rename(temporaryPath, target) == 0 else {
                throw HDF5Error.fileSystem(
                    file: target, operation: "rename \(temporaryPath) onto", message: errnoMessage())
            }
            try syncToDisk(directory)
        } catch {
            if FileManager.default.fileExists(atPath: temporaryPath) {
                _ = Result { try FileManager.default.removeItem(atPath: temporaryPath) }
            }
            throw error
        }
    }
}

/// fsyncs the file or directory at `path`.
private func syncToDisk(_ path: String) throws {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw HDF5Error.fileSystem(file: path, operation: "open for fsync", message: errnoMessage())
    }
    defer { _ = close(descriptor) }
    guard fsync(descriptor) == 0 else {
        throw HDF5Error.fileSystem(file: path, operation: "fsync", message: errnoMessage())
    }
}

/// The message of the current `errno`.
private func errnoMessage() -> String { String(cString: strerror(errno)) }
