// The numeric element types of datasets.

import CHDF5

/// The element type a dataset stores.
///
/// Files use the platform's native (little-endian) layouts; `float16` is IEEE half precision,
/// laid out like h5py/numpy's `float16`, and is a storage format only: it is written from and
/// read into `[Float]` (libhdf5 converts).
public enum HDF5ElementType: String, Sendable, CaseIterable, CustomStringConvertible {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float16, float32, float64

    /// Bytes per element in the file.
    public var byteCount: Int {
        switch self {
        case .uint8, .int8: 1
        case .uint16, .int16, .float16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        }
    }

    /// Whether the type is floating point.
    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 }

    public var description: String { rawValue }

    /// The native memory type for transfers; `float16` transfers through `Float`.
    var memoryType: hid_t {
        switch self {
        case .uint8: gf_H5T_NATIVE_UINT8()
        case .int8: gf_H5T_NATIVE_INT8()
        case .uint16: gf_H5T_NATIVE_UINT16()
        case .int16: gf_H5T_NATIVE_INT16()
        case .uint32: gf_H5T_NATIVE_UINT32()
        case .int32: gf_H5T_NATIVE_INT32()
        case .uint64: gf_H5T_NATIVE_UINT64()
        case .int64: gf_H5T_NATIVE_INT64()
        case .float16, .float32: gf_H5T_NATIVE_FLOAT()
        case .float64: gf_H5T_NATIVE_DOUBLE()
        }
    }

    /// Runs `body` with the file type of this element type (a temporary type for `float16`).
    /// Call with the library lock held.
    func withFileType<R>(_ context: HDF5Context, _ body: (hid_t) throws -> R) throws -> R {
        guard self == .float16 else { return try body(memoryType) }
        // IEEE binary16, built the way h5py builds its float16 type.
        let type = try context.check(H5Tcopy(gf_H5T_IEEE_F32LE()), "create float16 type")
        defer { _ = H5Tclose(type) }
        try context.check(H5Tset_fields(type, 15, 10, 5, 0, 10), "create float16 type")
        try context.check(H5Tset_size(type, 2), "create float16 type")
        try context.check(H5Tset_ebias(type, 15), "create float16 type")
        return try body(type)
    }

    /// The element type of an HDF5 datatype, or nil for types this module does not represent.
    init?(typeID: hid_t) {
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(typeID) == H5T_SGN_2
            switch size {
            case 1: self = signed ? .int8 : .uint8
            case 2: self = signed ? .int16 : .uint16
            case 4: self = signed ? .int32 : .uint32
            case 8: self = signed ? .int64 : .uint64
            default: return nil
            }
        case H5T_FLOAT:
            switch size {
            case 2: self = .float16
            case 4: self = .float32
            case 8: self = .float64
            default: return nil
            }
        default:
            return nil
        }
    }

    /// A readable name of any HDF5 datatype, for error messages.
    static func describe(typeID: hid_t) -> String {
        if let type = HDF5ElementType(typeID: typeID) { return type.rawValue }
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_INTEGER: return "\(size)-byte integer"
        case H5T_FLOAT: return "\(size)-byte float"
        case H5T_STRING: return "string"
        case H5T_COMPOUND: return "compound"
        case H5T_ENUM: return "enum"
        case H5T_ARRAY: return "array"
        case H5T_VLEN: return "variable-length sequence"
        case H5T_REFERENCE: return "reference"
        case H5T_OPAQUE: return "opaque"
        case H5T_BITFIELD: return "bitfield"
        default: return "unknown type"
        }
    }
}
