// The kinds of objects found in a group.

/// What a path inside a file names.
public enum HDF5ObjectKind: String, Sendable, CustomStringConvertible {
    case group, dataset
    /// A named datatype or other object this module does not open.
    case other

    public var description: String { rawValue }
}
