// A group inside an HDF5 file.

/// An open group: holds groups and datasets, carries attributes. Closed when released.
///
/// Create or open one through ``HDF5Container/createGroup(_:)`` and ``HDF5Container/group(named:)``.
public final class HDF5Group: HDF5Container {
    public let handle: HDF5Handle

    init(handle: HDF5Handle) {
        self.handle = handle
    }

    /// Absolute path of the group inside the file.
    public var name: String { objectPath }
}
