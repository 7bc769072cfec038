// Reading and writing attribute values through libhdf5.

import CHDF5
import Foundation

/// The libhdf5 side of attributes. All functions expect the library lock to be held.
enum HDF5AttributeIO {
    /// Names of the attributes of `object`, in name order.
    static func names(of object: hid_t, _ context: HDF5Context) throws -> [String] {
        var names: [String] = []
        let status = withUnsafeMutablePointer(to: &names) { namesPointer in
            H5Aiterate2(
                object, H5_INDEX_NAME, H5_ITER_INC, nil,
                { _, name, _, clientData in
                    guard let name, let clientData else { return -1 }
                    clientData.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, namesPointer)
        }
        try context.check(status, "list attributes")
        return names
    }

    /// Whether `object` has an attribute `name`.
    static func exists(_ name: String, on object: hid_t, _ context: HDF5Context) throws -> Bool {
        try context.isTrue(H5Aexists(object, name), "look up attribute '\(name)'")
    }

    /// Writes `value` as attribute `name` of `object`, replacing any attribute of that name.
    static func write(
        _ value: HDF5AttributeValue, named name: String, on object: hid_t,
        stringStorage: HDF5StringStorage, _ context: HDF5Context
    ) throws {
        let operation = "write attribute '\(name)'"
        if try exists(name, on: object, context) {
            try context.check(H5Adelete(object, name), operation)
        }
        switch value {
        case .int64(let value): try writeNumbers([value], scalar: true, gf_H5T_NATIVE_INT64(), name, object, context)
        case .int64s(let values): try writeNumbers(values, scalar: false, gf_H5T_NATIVE_INT64(), name, object, context)
        case .double(let value): try writeNumbers([value], scalar: true, gf_H5T_NATIVE_DOUBLE(), name, object, context)
        case .doubles(let values):
            try writeNumbers(values, scalar: false, gf_H5T_NATIVE_DOUBLE(), name, object, context)
        case .string(let value): try writeStrings([value], scalar: true, stringStorage, name, object, context)
        case .strings(let values): try writeStrings(values, scalar: false, stringStorage, name, object, context)
        }
    }

    /// Reads attribute `name` of `object`.
    static func read(named name: String, on object: hid_t, _ context: HDF5Context) throws -> HDF5AttributeValue {
        guard try exists(name, on: object, context) else {
            throw HDF5Error.attributeNotFound(file: context.file, object: context.object, name: name)
        }
        let operation = "read attribute '\(name)'"
        let attribute = try context.check(H5Aopen(object, name, gf_H5P_DEFAULT()), operation)
        defer { _ = H5Aclose(attribute) }
        let space = try context.check(H5Aget_space(attribute), operation)
        defer { _ = H5Sclose(space) }
        let type = try context.check(H5Aget_type(attribute), operation)
        defer { _ = H5Tclose(type) }
        let isScalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
        let points = H5Sget_simple_extent_npoints(space)
        guard points >= 0 else { throw context.failure(operation) }
        let count = Int(points)

        switch H5Tget_class(type) {
        case H5T_INTEGER:
            let values: [Int64] = try readNumbers(attribute, count, gf_H5T_NATIVE_INT64(), operation, context)
            return isScalar && count == 1 ? .int64(values[0]) : .int64s(values)
        case H5T_FLOAT:
            let values: [Double] = try readNumbers(attribute, count, gf_H5T_NATIVE_DOUBLE(), operation, context)
            return isScalar && count == 1 ? .double(values[0]) : .doubles(values)
        case H5T_STRING:
            let values =
                try H5Tis_variable_str(type) > 0
                ? readVariableStrings(attribute, type, space, count, operation, context)
                : readFixedStrings(attribute, type, count, operation, context)
            return isScalar && count == 1 ? .string(values[0]) : .strings(values)
        default:
            throw HDF5Error.unsupportedType(
                file: context.file, object: "\(context.object) attribute '\(name)'",
                found: HDF5ElementType.describe(typeID: type))
        }
    }

    // MARK: - Numbers

    private static func dataspace(count: Int, scalar: Bool, _ operation: String, _ context: HDF5Context) throws -> hid_t
    {
        if scalar { return try context.check(H5Screate(H5S_SCALAR), operation) }
        var dims = [hsize_t(count)]
        return try context.check(H5Screate_simple(1, &dims, nil), operation)
    }

    /// Creates attribute `name` with `type` and `count` elements, runs `write`; removes it again on failure.
    private static func create(
        _ name: String, on object: hid_t, type: hid_t, count: Int, scalar: Bool, _ context: HDF5Context,
        write: (hid_t) -> herr_t
    ) throws {
        let operation = "write attribute '\(name)'"
        let space = try dataspace(count: count, scalar: scalar, operation, context)
        defer { _ = H5Sclose(space) }
        let attribute = try context.check(
            H5Acreate2(object, name, type, space, gf_H5P_DEFAULT(), gf_H5P_DEFAULT()), operation)
        let status = count > 0 ? write(attribute) : 0
        _ = H5Aclose(attribute)
        if status < 0 {
            let error = context.failure(operation)
            _ = H5Adelete(object, name)
            throw error
        }
    }

    private static func writeNumbers<T: BitwiseCopyable>(
        _ values: [T], scalar: Bool, _ memoryType: hid_t, _ name: String, _ object: hid_t, _ context: HDF5Context
    ) throws {
        try create(name, on: object, type: memoryType, count: values.count, scalar: scalar, context) { attribute in
            values.withUnsafeBytes { H5Awrite(attribute, memoryType, $0.baseAddress) }
        }
    }

    private static func readNumbers<T: BitwiseCopyable>(
        _ attribute: hid_t, _ count: Int, _ memoryType: hid_t, _ operation: String, _ context: HDF5Context
    ) throws -> [T] {
        guard count > 0 else { return [] }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try context.check(H5Aread(attribute, memoryType, buffer.baseAddress), operation)
            initialized = count
        }
    }

    // MARK: - Strings

    /// A string type of `size` bytes (or variable length) with UTF-8 or the given character set.
    private static func stringType(size: Int, cset: H5T_cset_t, _ operation: String, _ context: HDF5Context) throws
        -> hid_t
    {
        let type = try context.check(H5Tcopy(gf_H5T_C_S1()), operation)
        do {
            try context.check(H5Tset_size(type, size), operation)
            try context.check(H5Tset_cset(type, cset), operation)
            if size != gf_H5T_VARIABLE() { try context.check(H5Tset_strpad(type, H5T_STR_NULLPAD), operation) }
            return type
        } catch {
            _ = H5Tclose(type)
            throw error
        }
    }

    private static func writeStrings(
        _ values: [String], scalar: Bool, _ storage: HDF5StringStorage, _ name: String, _ object: hid_t,
        _ context: HDF5Context
    ) throws {
        let operation = "write attribute '\(name)'"
        switch storage {
        case .variableLength:
            let type = try stringType(size: gf_H5T_VARIABLE(), cset: H5T_CSET_UTF8, operation, context)
            defer { _ = H5Tclose(type) }
            let pointers = values.map { strdup($0) }
            defer { for pointer in pointers { free(pointer) } }
            try create(name, on: object, type: type, count: values.count, scalar: scalar, context) { attribute in
                pointers.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
            }
        case .fixedLength:
            let width = max(1, values.map(\.utf8.count).max() ?? 1)
            let type = try stringType(size: width, cset: H5T_CSET_UTF8, operation, context)
            defer { _ = H5Tclose(type) }
            var bytes = [UInt8](repeating: 0, count: width * values.count)
            for (index, value) in values.enumerated() {
                bytes.replaceSubrange(index * width..<index * width + value.utf8.count, with: value.utf8)
            }
            try create(name, on: object, type: type, count: values.count, scalar: scalar, context) { attribute in
                bytes.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
            }
        }
    }

    private static func readVariableStrings(
        _ attribute: hid_t, _ fileType: hid_t, _ space: hid_t, _ count: Int, _ operation: String,
        _ context: HDF5Context
    ) throws -> [String] {
        guard count > 0 else { return [] }
        let type = try stringType(size: gf_H5T_VARIABLE(), cset: H5Tget_cset(fileType), operation, context)
        defer { _ = H5Tclose(type) }
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        try pointers.withUnsafeMutableBytes {
            try context.check(H5Aread(attribute, type, $0.baseAddress), operation)
        }
        let values = pointers.map { $0.map { String(cString: $0) } ?? "" }
        _ = pointers.withUnsafeMutableBytes { gf_H5vlen_reclaim(type, space, $0.baseAddress) }
        return values
    }

    private static func readFixedStrings(
        _ attribute: hid_t, _ fileType: hid_t, _ count: Int, _ operation: String, _ context: HDF5Context
    ) throws -> [String] {
        guard count > 0 else { return [] }
        let width = H5Tget_size(fileType)
        guard width > 0 else { throw context.failure(operation) }
        let type = try stringType(size: width, cset: H5Tget_cset(fileType), operation, context)
        defer { _ = H5Tclose(type) }
        var bytes = [UInt8](repeating: 0, count: width * count)
        try bytes.withUnsafeMutableBytes {
            try context.check(H5Aread(attribute, type, $0.baseAddress), operation)
        }
        let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
        return (0..<count).map { index in
            var slot = bytes[index * width..<(index + 1) * width]
            slot = slot.prefix { $0 != 0 }
            if spacePadded { while slot.last == UInt8(ascii: " ") { slot = slot.dropLast() } }
            return String(decoding: slot, as: UTF8.self)
        }
    }
}
