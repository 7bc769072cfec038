// Files and groups: objects that hold groups and datasets.

import CHDF5

/// An object that holds groups and datasets: an ``HDF5File`` (its root group) or an ``HDF5Group``.
///
/// Paths are relative to the container ("a/b") or absolute in the file ("/a/b"); creating an
/// object creates missing intermediate groups.
public protocol HDF5Container: HDF5Object {}

extension HDF5Container {
    // MARK: - Groups

    /// Creates the group at `path`, with any missing intermediate groups.
    /// - Throws: `HDF5Error.library` if an object of that name already exists.
    @discardableResult
    public func createGroup(_ path: String) throws -> HDF5Group {
        let context = handle.context.child(path)
        let id = try withID { location, _ in
            try withLinkCreationList(context) { links in
                try context.check(
                    H5Gcreate2(location, path, links, gf_H5P_DEFAULT(), gf_H5P_DEFAULT()), "create group")
            }
        }
        return HDF5Group(handle: HDF5Handle(id: id, kind: .group, context: context, owner: handle.fileHandle))
    }

    /// Opens the existing group at `path`.
    /// - Throws: `HDF5Error.objectNotFound` or `.wrongObjectKind`.
    public func group(named path: String) throws -> HDF5Group {
        let context = handle.context.child(path)
        let id = try withID { location, _ in
            try requireKind(.group, at: path, in: location, context)
            return try context.check(H5Gopen2(location, path, gf_H5P_DEFAULT()), "open group")
        }
        return HDF5Group(handle: HDF5Handle(id: id, kind: .group, context: context, owner: handle.fileHandle))
    }

    // MARK: - Datasets

    /// Creates a dataset of `elementType` and `shape` (row-major, first dimension = rows).
    ///
    /// With `options.extendable` the first dimension is unlimited and `shape[0]` is the initial
    /// row count (often 0); grow it with ``Dataset/append(_:)``.
    @discardableResult
    public func createDataset(
        _ path: String, elementType: HDF5ElementType, shape: [Int], options: DatasetOptions = .contiguous
    ) throws -> Dataset {
        let context = handle.context.child(path)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw HDF5Error.invalidArgument(
                file: context.file, object: context.object, message: "negative dimension in \(shape)")
        }
        let id = try withID { location, _ in
            let space: hid_t
            if shape.isEmpty {
                space = try context.check(H5Screate(H5S_SCALAR), "create dataspace")
            } else {
                var dims = shape.map { hsize_t($0) }
                var maxDims = dims
                if options.extendable { maxDims[0] = gf_H5S_UNLIMITED() }
                space = try context.check(H5Screate_simple(Int32(shape.count), &dims, &maxDims), "create dataspace")
            }
            defer { _ = H5Sclose(space) }
            let properties = try options.makeCreationPropertyList(
                shape: shape, elementSize: elementType.byteCount, context)
            defer { _ = H5Pclose(properties) }
            return try withLinkCreationList(context) { links in
                try elementType.withFileType(context) { fileType in
                    try context.check(
                        H5Dcreate2(location, path, fileType, space, links, properties, gf_H5P_DEFAULT()),
                        "create dataset")
                }
            }
        }
        return Dataset(
            handle: HDF5Handle(id: id, kind: .dataset, context: context, owner: handle.fileHandle),
            elementType: elementType, shape: shape, isExtendable: options.extendable)
    }

    /// Creates a dataset holding `values` with `shape` (default: 1-D, `[values.count]`).
    @discardableResult
    public func createDataset<T: HDF5Scalar>(
        _ path: String, values: [T], shape: [Int]? = nil, options: DatasetOptions = .contiguous
    ) throws -> Dataset {
        let shape = shape ?? [values.count]
        let expected = shape.reduce(1, *)
        guard expected == values.count else {
            let context = handle.context.child(path)
            throw HDF5Error.shapeMismatch(
                file: context.file, dataset: context.object,
                expected: "\(expected) values for shape \(shape)", found: "\(values.count) values")
        }
        let dataset = try createDataset(path, elementType: T.hdf5ElementType, shape: shape, options: options)
        try dataset.write(values)
        return dataset
    }

    /// Opens the existing dataset at `path`.
    /// - Throws: `HDF5Error.objectNotFound`, `.wrongObjectKind`, or `.unsupportedType` for datasets
    ///   of non-numeric types.
    public func dataset(named path: String) throws -> Dataset {
        let context = handle.context.child(path)
        let (id, layout) = try withID { location, _ in
            try requireKind(.dataset, at: path, in: location, context)
            let id = try context.check(H5Dopen2(location, path, gf_H5P_DEFAULT()), "open dataset")
            do {
                let layout = try Dataset.layout(of: id, context)
                // The intent is the file's: `location` may be a group, whose id H5Fget_intent refuses.
                var intent: UInt32 = 0
                let file = try context.check(H5Iget_file_id(location), "get the dataset's file")
                let status = H5Fget_intent(file, &intent)
                _ = H5Fclose(file)
                try context.check(status, "get the file's access mode")
                if intent & gf_H5F_ACC_RDWR() == 0 {
                    try Dataset.verifyStoredData(of: id, shape: layout.shape, elementType: layout.elementType, context)
                }
                return (id, layout)
            } catch {
                _ = H5Dclose(id)
                throw error
            }
        }
        return Dataset(
            handle: HDF5Handle(id: id, kind: .dataset, context: context, owner: handle.fileHandle),
            elementType: layout.elementType, shape: layout.shape, isExtendable: layout.isExtendable)
    }

    // MARK: - Navigation

    /// Whether a group or dataset exists at `path` (false also when an intermediate is not a group).
    public func exists(_ path: String) throws -> Bool {
        try objectKind(at: path) != nil
    }

    /// What `path` names, or nil if nothing.
    public func objectKind(at path: String) throws -> HDF5ObjectKind? {
        try withID { location, context in try kind(at: path, in: location, context.child(path)) }
    }

    /// Names of the group's direct members (groups, datasets, other links), sorted.
    public func children() throws -> [String] {
        try withID { location, context in
            var info = H5G_info_t()
            try context.check(H5Gget_info(location, &info), "list group members")
            return try (0..<info.nlinks).map { index in
                let length = H5Lget_name_by_idx(
                    location, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, gf_H5P_DEFAULT())
                guard length >= 0 else { throw context.failure("list group members") }
                var name = [CChar](repeating: 0, count: length + 1)
                let status = H5Lget_name_by_idx(
                    location, ".", H5_INDEX_NAME, H5_ITER_INC, index, &name, name.count, gf_H5P_DEFAULT())
                guard status >= 0 else { throw context.failure("list group members") }
                return String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }
}

// MARK: - Helpers (library lock held)

/// Runs `body` with a link creation property list that creates missing intermediate groups.
private func withLinkCreationList<R>(_ context: HDF5Context, _ body: (hid_t) throws -> R) throws -> R {
    let links = try context.check(H5Pcreate(gf_H5P_LINK_CREATE()), "create link properties")
    defer { _ = H5Pclose(links) }
    try context.check(H5Pset_create_intermediate_group(links, 1), "create link properties")
    return try body(links)
}

/// What `path` (relative to `location`) names, or nil if nothing; checks each component in turn,
/// so a missing intermediate or one that is not a group gives nil, not an error.
private func kind(at path: String, in location: hid_t, _ context: HDF5Context) throws -> HDF5ObjectKind? {
    let components = path.split(separator: "/").filter { $0 != "." }
    guard !components.isEmpty else { return .group }
    var prefix = path.hasPrefix("/") ? "/" : ""
    for (index, component) in components.enumerated() {
        prefix += (prefix.isEmpty || prefix == "/" ? "" : "/") + component
        guard try context.isTrue(H5Lexists(location, prefix, gf_H5P_DEFAULT()), "look up '\(prefix)'"),
            try context.isTrue(H5Oexists_by_name(location, prefix, gf_H5P_DEFAULT()), "look up '\(prefix)'")
        else { return nil }
        let object = try context.check(H5Oopen(location, prefix, gf_H5P_DEFAULT()), "open '\(prefix)'")
        let type = H5Iget_type(object)
        _ = H5Oclose(object)
        let kind: HDF5ObjectKind = type == H5I_GROUP ? .group : type == H5I_DATASET ? .dataset : .other
        if index == components.count - 1 { return kind }
        if kind != .group { return nil }
    }
    return nil
}

/// Throws unless `path` names an object of `expected` kind.
private func requireKind(
    _ expected: HDF5ObjectKind, at path: String, in location: hid_t, _ context: HDF5Context
) throws {
    guard let found = try kind(at: path, in: location, context) else {
        throw HDF5Error.objectNotFound(file: context.file, path: context.object)
    }
    guard found == expected else {
        throw HDF5Error.wrongObjectKind(
            file: context.file, path: context.object, expected: expected.rawValue, found: found.rawValue)
    }
}
