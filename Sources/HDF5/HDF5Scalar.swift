// Swift element types that map one-to-one onto HDF5 element types.

/// A Swift numeric type that datasets can be read into and written from.
///
/// The conforming type fixes the native memory type of every transfer, so a read can never
/// overrun its buffer: reading a `float64` dataset as `Float` is refused with
/// `HDF5Error.typeMismatch` instead of being converted or overrun.
public protocol HDF5Scalar: Sendable, BitwiseCopyable {
    /// The stored element type matching this Swift type.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension UInt8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint8 } }
extension Int8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int8 } }
extension UInt16: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint16 } }
extension Int16: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int16 } }
extension UInt32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint32 } }
extension Int32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension UInt64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint64 } }
extension Int64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int64 } }
extension Float: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float64 } }
