// An open libhdf5 identifier, closed when the last Swift reference goes away.

import CHDF5

/// An open libhdf5 identifier (file, group or dataset), closed in `deinit`.
///
/// Opaque outside this module: it is what ``HDF5Object`` values share. A handle of a group or
/// dataset keeps its file's handle alive, so a file stays open while any of its objects is in use.
/// `id` is read and written only while holding the library lock, which makes the class safe to
/// share between threads.
public final class HDF5Handle: @unchecked Sendable {
    enum Kind: Sendable { case file, group, dataset }

    private var id: hid_t
    let kind: Kind
    let context: HDF5Context
    private let owner: HDF5Handle?

    /// Wraps `id`, which this handle now owns. Call without holding the library lock.
    init(id: hid_t, kind: Kind, context: HDF5Context, owner: HDF5Handle?) {
        self.id = id
        self.kind = kind
        self.context = context
        self.owner = owner
    }

    /// The handle of the file this object lives in (itself for a file).
    var fileHandle: HDF5Handle { owner ?? self }

    /// The identifier, if still open. Call with the library lock held.
    func openID() throws -> hid_t {
        guard id >= 0, H5Iis_valid(id) > 0 else { throw HDF5Error.closed(file: context.file, object: context.object) }
        return id
    }

    /// Closes the identifier (a no-op when already closed). Call with the library lock held.
    func close() throws {
        guard id >= 0 else { return }
        let current = id
        id = -1
        // A file closed with H5F_CLOSE_STRONG has already closed its groups and datasets.
        guard H5Iis_valid(current) > 0 else { return }
        let status: herr_t
        switch kind {
        case .file: status = H5Fclose(current)
        case .group: status = H5Gclose(current)
        case .dataset: status = H5Dclose(current)
        }
        try context.check(status, "close")
    }

    deinit {
        HDF5Library.locked {
            guard id >= 0, H5Iis_valid(id) > 0 else { return }
            switch kind {
            case .file: _ = H5Fclose(id)
            case .group: _ = H5Gclose(id)
            case .dataset: _ = H5Dclose(id)
            }
        }
    }
}
