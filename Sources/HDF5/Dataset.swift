// A dataset: an n-dimensional array of numbers, read and written by rows.

import CHDF5

/// An open dataset: a row-major n-dimensional array whose first dimension indexes rows
/// (samples). Closed when released.
///
/// Reads and writes are typed by the Swift element type (``HDF5Scalar``), which must match the
/// stored ``elementType`` (`Float` also serves `float16` storage); a mismatch throws
/// `HDF5Error.typeMismatch` rather than converting or overrunning. ``readAsFloat()`` is the one
/// explicit converting read. Data moves straight between libhdf5 and the array storage.
///
/// ```swift
/// let images = try file.dataset(named: "train/images")      // uint8, [50000, 32, 32, 3]
/// let batch: [UInt8] = try images.read(rowIndices: [7, 3, 9])  // rows 7, 3, 9 in that order
/// ```
public final class Dataset: HDF5Object, @unchecked Sendable {
    public let handle: HDF5Handle
    /// The stored element type.
    public let elementType: HDF5ElementType
    /// Whether the first dimension is unlimited (rows can be appended).
    public let isExtendable: Bool
    /// Last known shape; read and written only with the library lock held.
    private var knownShape: [Int]

    init(handle: HDF5Handle, elementType: HDF5ElementType, shape: [Int], isExtendable: Bool) {
        self.handle = handle
        self.elementType = elementType
        self.knownShape = shape
        self.isExtendable = isExtendable
    }

    /// Absolute path of the dataset inside the file.
    public var name: String { objectPath }

    /// The dimensions, row-major (empty for a scalar dataset). Reflects appends made through any
    /// handle of this process as of the last operation on this handle.
    public var shape: [Int] { HDF5Library.locked { knownShape } }

    /// Number of rows (`shape[0]`; 1 for a scalar dataset).
    public var rowCount: Int { shape.first ?? 1 }

    /// Number of elements in one row (product of `shape` after the first dimension).
    public var elementsPerRow: Int { shape.dropFirst().reduce(1, *) }

    /// Total number of elements.
    public var count: Int { shape.reduce(1, *) }

    // MARK: - Reading

    /// Reads the whole dataset.
    public func read<T: HDF5Scalar>(as type: T.Type = T.self) throws -> [T] {
        try checkType(T.self)
        return try read(.all, memoryType: T.hdf5ElementType.memoryType)
    }

    /// Reads the rows in `rows` (a hyperslab over the first dimension).
    public func read<T: HDF5Scalar>(rows: Range<Int>, as type: T.Type = T.self) throws -> [T] {
        try checkType(T.self)
        return try read(.runs([rows]), memoryType: T.hdf5ElementType.memoryType)
    }

    /// Reads the rows `rowIndices`, in the order given (unsorted and repeated indices allowed).
    public func read<T: HDF5Scalar>(rowIndices: [Int], as type: T.Type = T.self) throws -> [T] {
        try checkType(T.self)
        let plan = RowIndexPlan(rowIndices)
        let sorted: [T] = try read(.runs(plan.runs), memoryType: T.hdf5ElementType.memoryType)
        return plan.gather(sorted, rowSize: plan.uniqueCount == 0 ? 0 : sorted.count / plan.uniqueCount)
    }

    /// Reads the rows in `rows` into `buffer`, which must hold exactly `rows.count × elementsPerRow`
    /// elements (for filling preallocated batch storage without a copy).
    public func read<T: HDF5Scalar>(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try checkType(T.self)
        try withID { id, context in
            let count = try elementCount(of: .runs([rows]), id, context)
            guard buffer.count == count else { throw mismatch(expected: count, found: buffer.count, "buffer") }
            guard count > 0, let base = buffer.baseAddress else { return }
            try forEachBlock(.runs([rows]), id, context) { memorySpace, fileSpace, offset in
                try context.check(
                    H5Dread(id, T.hdf5ElementType.memoryType, memorySpace, fileSpace, gf_H5P_DEFAULT(), base + offset),
                    "read dataset")
            }
        }
    }

    /// Reads the whole dataset converted to `Float` by libhdf5, whatever its numeric type
    /// (integers beyond 2^24 and `float64` values are rounded to the nearest `Float`).
    public func readAsFloat() throws -> [Float] {
        try read(.all, memoryType: gf_H5T_NATIVE_FLOAT())
    }

    /// Reads the rows in `rows` converted to `Float`, like ``readAsFloat()``.
    public func readAsFloat(rows: Range<Int>) throws -> [Float] {
        try read(.runs([rows]), memoryType: gf_H5T_NATIVE_FLOAT())
    }

    // MARK: - Writing

    /// Writes the whole dataset; `values.count` must equal ``count``.
    public func write<T: HDF5Scalar>(_ values: [T]) throws {
        try checkType(T.self)
        try withID { id, context in try write(values, to: .all, id, context) }
    }

    /// Writes whole rows starting at row `start`; `values.count` must be a multiple of
    /// ``elementsPerRow`` and the rows must lie within ``rowCount`` (use ``append(_:)`` to grow).
    public func write<T: HDF5Scalar>(rows start: Int, _ values: [T]) throws {
        try checkType(T.self)
        try withID { id, context in
            let rows = try rowCount(of: values.count, id, context)
            try write(values, to: .runs([start..<start + rows]), id, context)
        }
    }

    /// Writes rows at `rowIndices` (any order, no repeats); `values` holds the rows in that order.
    public func write<T: HDF5Scalar>(rowIndices: [Int], _ values: [T]) throws {
        try checkType(T.self)
        let plan = RowIndexPlan(rowIndices)
        guard !plan.hasDuplicates else {
            throw HDF5Error.invalidArgument(
                file: filePath, object: objectPath, message: "repeated row indices in a write")
        }
        try withID { id, context in
            let rows = try rowCount(of: values.count, id, context)
            guard rows == rowIndices.count else {
                throw mismatch(expected: rowIndices.count * elementsPerRowLocked, found: values.count, "values")
            }
            try write(plan.scatter(values, rowSize: elementsPerRowLocked), to: .runs(plan.runs), id, context)
        }
    }

    /// Appends whole rows to an extendable dataset; `values.count` must be a multiple of
    /// ``elementsPerRow``.
    public func append<T: HDF5Scalar>(_ values: [T]) throws {
        try checkType(T.self)
        guard isExtendable else {
            throw HDF5Error.invalidArgument(
                file: filePath, object: objectPath,
                message: "append needs an extendable dataset: create it with DatasetOptions(extendable: true)")
        }
        try withID { id, context in
            let rows = try rowCount(of: values.count, id, context)
            var dims = knownShape.map { hsize_t($0) }
            let start = knownShape[0]
            dims[0] += hsize_t(rows)
            try context.check(H5Dset_extent(id, &dims), "extend dataset")
            try write(values, to: .runs([start..<start + rows]), id, context)
        }
    }

    // MARK: - Implementation (library lock held unless noted)

    /// Which rows an operation touches.
    private enum Rows {
        case all
        case runs([Range<Int>])
    }

    /// Refuses a Swift element type that does not match the stored type. No lock needed.
    private func checkType<T: HDF5Scalar>(_: T.Type) throws {
        let requested = T.hdf5ElementType
        guard requested == elementType || (elementType == .float16 && requested == .float32) else {
            throw HDF5Error.typeMismatch(
                file: filePath, dataset: objectPath, expected: "\(requested) (\(T.self))", found: elementType.rawValue)
        }
    }

    private func mismatch(expected: Int, found: Int, _ what: String) -> HDF5Error {
        .shapeMismatch(
            file: filePath, dataset: objectPath,
            expected: "\(expected) values (shape \(knownShape))", found: "\(found) \(what)")
    }

    private var elementsPerRowLocked: Int { knownShape.dropFirst().reduce(1, *) }

    /// The number of whole rows in `valueCount` values, refreshing the known shape.
    private func rowCount(of valueCount: Int, _ id: hid_t, _ context: HDF5Context) throws -> Int {
        knownShape = try Self.layout(of: id, context).shape
        let rowSize = elementsPerRowLocked
        guard !knownShape.isEmpty, rowSize > 0 else {
            throw HDF5Error.invalidArgument(
                file: context.file, object: context.object, message: "row operation on a dataset of shape \(knownShape)"
            )
        }
        guard valueCount % rowSize == 0 else {
            throw HDF5Error.shapeMismatch(
                file: context.file, dataset: context.object,
                expected: "a multiple of \(rowSize) values (rows of shape \(Array(knownShape.dropFirst())))",
                found: "\(valueCount) values")
        }
        return valueCount / rowSize
    }

    /// The number of elements `rows` selects; checks the rows against the current shape, which
    /// it refreshes.
    private func elementCount(of rows: Rows, _ id: hid_t, _ context: HDF5Context) throws -> Int {
        knownShape = try Self.layout(of: id, context).shape
        guard case .runs(let runs) = rows else { return knownShape.reduce(1, *) }
        guard let rowTotal = knownShape.first else {
            throw HDF5Error.invalidArgument(
                file: context.file, object: context.object, message: "row selection on a scalar dataset")
        }
        if let bad = runs.first(where: { $0.lowerBound < 0 || $0.upperBound > rowTotal }) {
            let requested = bad.lowerBound < 0 || bad.count == 1 ? "\(bad.lowerBound)" : "\(bad)"
            throw HDF5Error.rowsOutOfRange(
                file: context.file, dataset: context.object, requested: requested, rowCount: rowTotal)
        }
        return runs.reduce(0) { $0 + $1.count } * elementsPerRowLocked
    }

    /// Moves the elements of `rows` block by block: `transfer(memorySpace, fileSpace, offset)` runs
    /// once for `.all` and once per run of rows, `offset` being the block's first element in the
    /// contiguous buffer. The memory selection has the same shape as the file selection, which keeps
    /// libhdf5 on its fast path (differently shaped selections are mapped element by element).
    /// Call after ``elementCount(of:_:_:)``.
    private func forEachBlock(
        _ rows: Rows, _ id: hid_t, _ context: HDF5Context, _ transfer: (hid_t, hid_t, Int) throws -> Void
    ) throws {
        guard case .runs(let runs) = rows else { return try transfer(gf_H5S_ALL(), gf_H5S_ALL(), 0) }
        let fileSpace = try context.check(H5Dget_space(id), "get dataspace")
        defer { _ = H5Sclose(fileSpace) }
        let rank = Int32(knownShape.count)
        var memoryDims = [hsize_t(runs.map(\.count).max() ?? 0)] + knownShape.dropFirst().map { hsize_t($0) }
        let memorySpace = try context.check(H5Screate_simple(rank, &memoryDims, nil), "create memory dataspace")
        defer { _ = H5Sclose(memorySpace) }
        var fileStart = [hsize_t](repeating: 0, count: knownShape.count)
        var memoryStart = fileStart
        var block = memoryDims
        var offset = 0
        for run in runs where !run.isEmpty {
            fileStart[0] = hsize_t(run.lowerBound)
            block[0] = hsize_t(run.count)
            try context.check(
                H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &fileStart, nil, &block, nil), "select rows")
            try context.check(
                H5Sselect_hyperslab(memorySpace, H5S_SELECT_SET, &memoryStart, nil, &block, nil), "select rows")
            try transfer(memorySpace, fileSpace, offset)
            offset += run.count * elementsPerRowLocked
        }
    }

    /// Reads `rows` with `memoryType`, which must describe `T`. Takes the lock.
    private func read<T: HDF5Scalar>(_ rows: Rows, memoryType: hid_t) throws -> [T] {
        try withID { id, context in
            let count = try elementCount(of: rows, id, context)
            guard count > 0 else { return [] }
            return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                guard let base = buffer.baseAddress else { return }
                try forEachBlock(rows, id, context) { memorySpace, fileSpace, offset in
                    try context.check(
                        H5Dread(id, memoryType, memorySpace, fileSpace, gf_H5P_DEFAULT(), base + offset), "read dataset"
                    )
                }
                initialized = count
            }
        }
    }

    private func write<T: HDF5Scalar>(_ values: [T], to rows: Rows, _ id: hid_t, _ context: HDF5Context) throws {
        let count = try elementCount(of: rows, id, context)
        guard values.count == count else { throw mismatch(expected: count, found: values.count, "values") }
        guard count > 0 else { return }
        try values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            try forEachBlock(rows, id, context) { memorySpace, fileSpace, offset in
                try context.check(
                    H5Dwrite(id, T.hdf5ElementType.memoryType, memorySpace, fileSpace, gf_H5P_DEFAULT(), base + offset),
                    "write dataset")
            }
        }
    }

    /// Element type, shape and extendability of the open dataset `id`.
    static func layout(
        of id: hid_t, _ context: HDF5Context
    ) throws -> (elementType: HDF5ElementType, shape: [Int], isExtendable: Bool) {
        let type = try context.check(H5Dget_type(id), "get dataset type")
        defer { _ = H5Tclose(type) }
        guard let elementType = HDF5ElementType(typeID: type) else {
            throw HDF5Error.unsupportedType(
                file: context.file, object: context.object, found: HDF5ElementType.describe(typeID: type))
        }
        let space = try context.check(H5Dget_space(id), "get dataspace")
        defer { _ = H5Sclose(space) }
        let (shape, maximum) = try dimensions(of: space, context)
        return (elementType, shape, maximum.first == gf_H5S_UNLIMITED())
    }

    /// Current and maximum dimensions of a dataspace.
    private static func dimensions(of space: hid_t, _ context: HDF5Context) throws -> (
        current: [Int], maximum: [hsize_t]
    ) {
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw context.failure("get dataspace rank") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        var maximum = dims
        try context.check(H5Sget_simple_extent_dims(space, &dims, &maximum), "get dataspace dimensions")
        return (dims.map { Int($0) }, maximum)
    }
}
