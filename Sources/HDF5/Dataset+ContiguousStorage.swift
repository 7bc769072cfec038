// Where a contiguous dataset's bytes lie in its file, for readers that move rows without libhdf5.

import CHDF5

/// The bytes of a dataset stored as one unfiltered block in its file, in this machine's element order: row `i` is
/// the `rowBytes` bytes at `offset + i × rowBytes`. A reader can `pread` rows from there directly, in any order and
/// from any thread, at the speed of the page cache, instead of going through libhdf5's global lock and its chunk
/// cache.
public struct ContiguousStorage: Sendable, Equatable {
    /// The byte offset of the first element in the file.
    public var offset: Int
    /// The bytes of one row (of the first dimension).
    public var rowBytes: Int
    /// The number of rows.
    public var rowCount: Int

    /// The bytes the rows occupy.
    public var byteCount: Int { rowBytes * rowCount }
}

extension Dataset {
    /// The dataset's storage when it is contiguous, allocated, unfiltered and in native element order, so that its
    /// rows can be read straight from the file; nil when it is chunked, compressed, not yet written, of another
    /// byte order, or a scalar.
    public func contiguousStorage() throws -> ContiguousStorage? {
        try withID { id, context in
            let shape = try Self.layout(of: id, context).shape
            guard let rows = shape.first else { return nil }
            let properties = try context.check(H5Dget_create_plist(id), "get creation properties")
            defer { _ = H5Pclose(properties) }
            guard H5Pget_layout(properties) == H5D_CONTIGUOUS, H5Pget_nfilters(properties) == 0 else { return nil }
            let fileType = try context.check(H5Dget_type(id), "get dataset type")
            defer { _ = H5Tclose(fileType) }
            guard H5Tequal(fileType, elementType.memoryType) > 0 else { return nil }
            let address = H5Dget_offset(id)
            // Sizes from a hostile file may overflow: such a dataset is left to libhdf5's checks.
            var rowBytes = elementType.byteCount, overflow = false
            for dimension in shape.dropFirst() where !overflow {
                (rowBytes, overflow) = rowBytes.multipliedReportingOverflow(by: dimension)
            }
            let (total, totalOverflow) = rowBytes.multipliedReportingOverflow(by: rows)
            guard !overflow, !totalOverflow, address != gf_HADDR_UNDEF(), address <= UInt64(Int.max),
                H5Dget_storage_size(id) == hsize_t(total)
            else { return nil }
            return ContiguousStorage(offset: Int(address), rowBytes: rowBytes, rowCount: rows)
        }
    }
}
