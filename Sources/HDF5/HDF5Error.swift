// Typed errors of the HDF5 module.

import Foundation

/// An error from the HDF5 module. Every case names the file and, where there is one, the object
/// (group, dataset or attribute) involved; `description` adds a hint of what to do.
///
/// Failed libhdf5 calls become ``library(file:object:operation:message:)`` with HDF5's own error
/// stack as `message` (automatic printing to stderr is turned off).
public enum HDF5Error: Error, Sendable, Equatable {
    /// The file does not exist.
    case fileNotFound(file: String)
    /// The file exists but is not an HDF5 file (no HDF5 signature).
    case notHDF5(file: String)
    /// A libhdf5 call failed. `message` is HDF5's error stack, outermost call first.
    case library(file: String, object: String, operation: String, message: String)
    /// No group or dataset exists at `path`.
    case objectNotFound(file: String, path: String)
    /// The object at `path` exists but is not of the `expected` kind.
    case wrongObjectKind(file: String, path: String, expected: String, found: String)
    /// The Swift element type of a read or write does not match the dataset's stored type.
    case typeMismatch(file: String, dataset: String, expected: String, found: String)
    /// The number or layout of values does not match the dataset or selection.
    case shapeMismatch(file: String, dataset: String, expected: String, found: String)
    /// Requested rows lie outside the dataset's first dimension.
    case rowsOutOfRange(file: String, dataset: String, requested: String, rowCount: Int)
    /// The object stores a type this module cannot represent (e.g. compound or enum types).
    case unsupportedType(file: String, object: String, found: String)
    /// The object has no attribute `name`.
    case attributeNotFound(file: String, object: String, name: String)
    /// Attribute `name` holds a value of another type than the one requested.
    case attributeTypeMismatch(file: String, object: String, name: String, expected: String, found: String)
    /// The file's `format`/`version` attributes are not the ones the reader expects.
    case formatMismatch(file: String, expected: String, found: String)
    /// An argument is invalid for this object (e.g. a row operation on a scalar dataset).
    case invalidArgument(file: String, object: String, message: String)
    /// The file or object was closed before this operation.
    case closed(file: String, object: String)
    /// A file-system step of an atomic write (fsync, rename) failed.
    case fileSystem(file: String, operation: String, message: String)
    /// A dataset declares more data than the file stores (a damaged, cut-off or crafted file).
    case incompleteData(file: String, dataset: String, message: String)

    /// The file the error concerns.
    public var file: String {
        switch self {
        case .fileNotFound(let file), .notHDF5(let file),
            .library(let file, _, _, _), .objectNotFound(let file, _), .wrongObjectKind(let file, _, _, _),
            .typeMismatch(let file, _, _, _), .shapeMismatch(let file, _, _, _),
            .rowsOutOfRange(let file, _, _, _), .unsupportedType(let file, _, _),
            .attributeNotFound(let file, _, _), .attributeTypeMismatch(let file, _, _, _, _),
            .formatMismatch(let file, _, _), .invalidArgument(let file, _, _), .closed(let file, _),
            .fileSystem(let file, _, _), .incompleteData(let file, _, _):
            return file
        }
    }

    /// What to do about the error.
    public var hint: String {
        // Neutral advice: this module does not know whether the file can be rebuilt (a cache) or not (weights, a
        // checkpoint), and deleting is never its call.
        let rebuild =
            "write it again if it is a cache (under a new name, keeping this one until it works), or "
            + "restore it from a copy"
        switch self {
        case .fileNotFound:
            return "check the path, or build the file first"
        case .notHDF5:
            return "the file is not HDF5 (or was cut off before its header): \(rebuild)"
        case .library(_, _, let operation, let message):
            if Self.systemCause(in: message) != nil {
                return "check the disk's free space, the folder's permissions and `ulimit -f`"
            }
            if operation == "open file" || message.contains("truncated") || message.contains("signature") {
                return
                    "the file is truncated or corrupt (\(rebuild)), or open elsewhere in another mode (close that first)"
            }
            return "see HDF5's message above; `h5dump -H <file>` shows the file's structure"
        case .objectNotFound:
            return "check the path; `children()` lists a group's members"
        case .wrongObjectKind:
            return "open groups with `group(named:)` and datasets with `dataset(named:)`"
        case .typeMismatch:
            return "read with the Swift type matching the stored type, or use `readAsFloat()` to convert"
        case .shapeMismatch:
            return "pass exactly as many values as the selection holds (rows × elements per row)"
        case .rowsOutOfRange:
            return "keep rows within 0..<rowCount (use `append` to grow an extendable dataset)"
        case .unsupportedType:
            return "this module reads integer, floating-point and string data only"
        case .attributeNotFound:
            return "`attributeNames()` lists what is there; an old file may lack it: \(rebuild)"
        case .attributeTypeMismatch:
            return "read the attribute as the type it was written with"
        case .formatMismatch:
            return "the file was written by another format or version: \(rebuild)"
        case .invalidArgument:
            return "check the arguments against the dataset's shape and options"
        case .closed:
            return "keep the file open while its groups and datasets are in use"
        case .fileSystem:
            return "check free space and permissions of the target directory"
        case .incompleteData:
            return "the file is damaged, cut off or not written by GradFeat: \(rebuild)"
        }
    }

    /// One-line summary of what went wrong, without the hint.
    public var summary: String {
        switch self {
        case .fileNotFound(let file):
            return "HDF5 file not found: \(file)"
        case .notHDF5(let file):
            return "not an HDF5 file: \(file)"
        case .library(let file, let object, let operation, let message):
            // A failed system call (a full disk, `ulimit -f`) is the whole story; libhdf5's 15-line stack is not.
            if let cause = Self.systemCause(in: message) {
                return "HDF5 failed to \(operation) (\(object) in \(file)): \(cause)"
            }
            return "HDF5 failed to \(operation) (\(object) in \(file)):\n  "
                + message.replacingOccurrences(of: "\n", with: "\n  ")
        case .objectNotFound(let file, let path):
            return "no group or dataset '\(path)' in \(file)"
        case .wrongObjectKind(let file, let path, let expected, let found):
            return "'\(path)' in \(file) is a \(found), expected a \(expected)"
        case .typeMismatch(let file, let dataset, let expected, let found):
            return "type mismatch for dataset '\(dataset)' in \(file): expected \(expected), found \(found)"
        case .shapeMismatch(let file, let dataset, let expected, let found):
            return "shape mismatch for dataset '\(dataset)' in \(file): expected \(expected), found \(found)"
        case .rowsOutOfRange(let file, let dataset, let requested, let rowCount):
            return "rows \(requested) out of range for dataset '\(dataset)' in \(file) with \(rowCount) rows"
        case .unsupportedType(let file, let object, let found):
            return "unsupported HDF5 type \(found) at '\(object)' in \(file)"
        case .attributeNotFound(let file, let object, let name):
            return "no attribute '\(name)' on '\(object)' in \(file)"
        case .attributeTypeMismatch(let file, let object, let name, let expected, let found):
            return "attribute '\(name)' on '\(object)' in \(file): expected \(expected), found \(found)"
        case .formatMismatch(let file, let expected, let found):
            return "format mismatch in \(file): expected \(expected), found \(found)"
        case .invalidArgument(let file, let object, let message):
            return "invalid argument for '\(object)' in \(file): \(message)"
        case .closed(let file, let object):
            return "'\(object)' in \(file) is closed"
        case .fileSystem(let file, let operation, let message):
            return "could not \(operation) \(file): \(message)"
        case .incompleteData(let file, let dataset, let message):
            return "dataset '\(dataset)' in \(file) is incomplete: \(message)"
        }
    }
}

extension HDF5Error {
    /// The operating system's message in a libhdf5 error stack (`errno = 28, error message = 'No space left on
    /// device'`), if there is one.
    static func systemCause(in stack: String) -> String? {
        guard let start = stack.range(of: "error message = '") else { return nil }
        let rest = stack[start.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }
}

extension HDF5Error: CustomStringConvertible, LocalizedError {
    /// The summary followed by the hint.
    public var description: String { "\(summary)\n  hint: \(hint)" }

    /// Same as `description`, so `localizedDescription` carries the full message.
    public var errorDescription: String? { description }
}
