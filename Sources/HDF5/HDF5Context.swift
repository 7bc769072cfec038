// Where an operation happens (file and object path), used to check libhdf5 results.

import CHDF5

/// The file and object an operation works on; turns failed libhdf5 calls into `HDF5Error`s that
/// name both. Its `check` methods must be called with the library lock held.
struct HDF5Context: Sendable {
    /// Path of the file on disk.
    let file: String
    /// Absolute path of the object inside the file ("/" for the root group).
    let object: String

    /// The context of the object at `path` relative to this one (absolute paths are kept).
    func child(_ path: String) -> HDF5Context {
        if path.hasPrefix("/") { return HDF5Context(file: file, object: path) }
        return HDF5Context(file: file, object: object == "/" ? "/" + path : object + "/" + path)
    }

    /// The error for a failed libhdf5 call, carrying HDF5's own message stack.
    func failure(_ operation: String) -> HDF5Error {
        .library(file: file, object: object, operation: operation, message: HDF5Library.takeErrorStack())
    }

    /// Checks a status (`herr_t`) result: negative values are failures.
    func check(_ status: herr_t, _ operation: @autoclosure () -> String) throws {
        if status < 0 { throw failure(operation()) }
    }

    /// Checks a boolean (`htri_t`) result: negative values are failures, positive ones true.
    func isTrue(_ result: htri_t, _ operation: @autoclosure () -> String) throws -> Bool {
        if result < 0 { throw failure(operation()) }
        return result > 0
    }

    /// Checks an identifier (`hid_t`) result: negative values are failures.
    @discardableResult
    func check(_ id: hid_t, _ operation: @autoclosure () -> String) throws -> hid_t {
        if id < 0 { throw failure(operation()) }
        return id
    }
}
