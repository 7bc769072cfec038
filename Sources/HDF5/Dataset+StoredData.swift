// Checks that a dataset opened for reading stores the data its shape declares.

import CHDF5

extension Dataset {
    /// The most a compressed dataset may expand (declared bytes per stored byte, beyond `expansionAllowance`):
    /// GradFeat's own files compress 1–10×.
    static let maxExpansion = 100
    static let expansionAllowance = 64 << 20

    /// Throws when the dataset `id` (opened read-only) declares more data than the file stores, so that a small
    /// file cannot make a reader allocate terabytes: a shape whose byte size overflows, contiguous storage shorter
    /// than the shape, chunks that were never written (they read as the fill value), compressed chunks expanding
    /// more than ``maxExpansion``-fold, or data kept in external or virtual files. Call with the library lock held.
    static func verifyStoredData(
        of id: hid_t, shape: [Int], elementType: HDF5ElementType, _ context: HDF5Context
    ) throws {
        func incomplete(_ message: String) -> HDF5Error {
            .incompleteData(file: context.file, dataset: context.object, message: message)
        }
        var declared = elementType.byteCount
        for dimension in shape {
            let (product, overflow) = declared.multipliedReportingOverflow(by: dimension)
            guard !overflow, dimension >= 0 else { throw incomplete("its shape \(shape) overflows") }
            declared = product
        }
        guard declared > 0 else { return }
        let stored = Int(clamping: H5Dget_storage_size(id))
        let plist = try context.check(H5Dget_create_plist(id), "get dataset creation properties")
        defer { _ = H5Pclose(plist) }
        guard H5Pget_external_count(plist) == 0 else {
            throw incomplete("its data are kept in external files, which GradFeat does not read")
        }
        switch H5Pget_layout(plist) {
        case H5D_CONTIGUOUS:
            guard stored >= declared else {
                throw incomplete("its shape \(shape) needs \(declared) bytes but the file stores \(stored)")
            }
        case H5D_CHUNKED:
            var chunk = [hsize_t](repeating: 0, count: shape.count)
            guard H5Pget_chunk(plist, Int32(shape.count), &chunk) == Int32(shape.count) else {
                throw context.failure("get chunk dimensions")
            }
            var expected = 1
            for (dimension, side) in zip(shape, chunk) where side > 0 {
                let count = (dimension + Int(side) - 1) / Int(side)
                let (product, overflow) = expected.multipliedReportingOverflow(by: count)
                guard !overflow else { throw incomplete("its shape \(shape) overflows") }
                expected = product
            }
            var written: hsize_t = 0
            let space = try context.check(H5Dget_space(id), "get dataspace")
            defer { _ = H5Sclose(space) }
            try context.check(H5Dget_num_chunks(id, space, &written), "count stored chunks")
            guard Int(written) >= expected else {
                throw incomplete("only \(written) of its \(expected) chunks are stored (the rest was never written)")
            }
            let (scaled, overflow) = stored.multipliedReportingOverflow(by: maxExpansion)
            guard overflow || declared <= scaled + expansionAllowance else {
                throw incomplete(
                    "its shape \(shape) declares \(declared) bytes, more than \(maxExpansion) times the \(stored) "
                        + "compressed bytes stored")
            }
        case H5D_VIRTUAL:
            throw incomplete("it is a virtual dataset, which GradFeat does not read")
        default:
            break // compact: the data sit in the object header, within its 64 KiB
        }
    }
}
