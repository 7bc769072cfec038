// Files, groups and datasets: the objects that carry attributes.

import CHDF5

/// An open HDF5 object that carries attributes: an ``HDF5File`` (its root group), an
/// ``HDF5Group`` or a ``Dataset``.
///
/// ```swift
/// try file.setAttribute("format", "gradfeat.features")
/// try file.setAttribute("version", 2)
/// let version = try file.attribute("version", as: Int.self)
/// ```
public protocol HDF5Object: AnyObject, Sendable {
    /// The open libhdf5 identifier behind this object.
    var handle: HDF5Handle { get }
}

extension HDF5Object {
    /// Path of the file on disk.
    public var filePath: String { handle.context.file }

    /// Absolute path of the object inside the file ("/" for the root group).
    public var objectPath: String { handle.context.object }

    /// Runs `body` with the lock held and the open identifier of this object.
    func withID<R>(_ body: (hid_t, HDF5Context) throws -> R) throws -> R {
        try HDF5Library.locked { try body(handle.openID(), handle.context) }
    }

    // MARK: - Attributes

    /// Names of the object's attributes, sorted.
    public func attributeNames() throws -> [String] {
        try withID { id, context in try HDF5AttributeIO.names(of: id, context) }
    }

    /// Whether the object has an attribute `name`.
    public func hasAttribute(_ name: String) throws -> Bool {
        try withID { id, context in try HDF5AttributeIO.exists(name, on: id, context) }
    }

    /// Writes attribute `name`, replacing any attribute of that name.
    ///
    /// - Parameters:
    ///   - name: the attribute's name.
    ///   - value: a `String`, `Int64`, `Int`, `Double` or an array of one of them.
    ///   - stringStorage: how strings are stored; ignored for numbers.
    public func setAttribute<T: HDF5AttributeConvertible>(
        _ name: String, _ value: T, stringStorage: HDF5StringStorage = .variableLength
    ) throws {
        try withID { id, context in
            try HDF5AttributeIO.write(
                value.hdf5AttributeValue, named: name, on: id, stringStorage: stringStorage, context)
        }
    }

    /// Reads attribute `name` as whatever type it is stored with.
    ///
    /// - Throws: `HDF5Error.attributeNotFound` if absent, `.unsupportedType` for e.g. enum or
    ///   compound attributes.
    public func attribute(_ name: String) throws -> HDF5AttributeValue {
        try withID { id, context in try HDF5AttributeIO.read(named: name, on: id, context) }
    }

    /// Reads attribute `name` as `T`.
    ///
    /// - Throws: `HDF5Error.attributeNotFound` if absent, `.attributeTypeMismatch` if stored
    ///   with another type (an integer attribute is not read as `Double`, nor the reverse).
    public func attribute<T: HDF5AttributeConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        let value = try attribute(name)
        guard let converted = T(hdf5AttributeValue: value) else {
            throw HDF5Error.attributeTypeMismatch(
                file: filePath, object: objectPath, name: name, expected: "\(T.self)", found: value.typeName)
        }
        return converted
    }

    /// Removes attribute `name`.
    public func deleteAttribute(_ name: String) throws {
        try withID { id, context in
            guard try HDF5AttributeIO.exists(name, on: id, context) else {
                throw HDF5Error.attributeNotFound(file: context.file, object: context.object, name: name)
            }
            try context.check(H5Adelete(id, name), "delete attribute '\(name)'")
        }
    }
}
