// How string attributes are stored.

/// How a string attribute is stored. Both are read back the same way.
public enum HDF5StringStorage: Sendable {
    /// Variable-length UTF-8 strings, as h5py writes Python `str` (the default).
    case variableLength
    /// Fixed-length, null-padded UTF-8 strings as wide as the longest value, as numpy `bytes_`.
    case fixedLength
}
