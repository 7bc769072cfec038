// The values an attribute can hold.

/// The value of an attribute: a string, 64-bit integer or double, or a 1-D array of one of them.
///
/// Reading maps any stored integer type to `int64`/`int64s`, any floating-point type to
/// `double`/`doubles`, and fixed- or variable-length strings (ASCII or UTF-8, as h5py writes them)
/// to `string`/`strings`. Scalar dataspaces give the singular cases, 1-D (or higher, flattened)
/// dataspaces the array cases.
public enum HDF5AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int64(Int64)
    case double(Double)
    case strings([String])
    case int64s([Int64])
    case doubles([Double])

    /// The name of the case's type, as used in error messages: `String`, `[Int64]`, …
    public var typeName: String {
        switch self {
        case .string: "String"
        case .int64: "Int64"
        case .double: "Double"
        case .strings: "[String]"
        case .int64s: "[Int64]"
        case .doubles: "[Double]"
        }
    }

    public var description: String {
        switch self {
        case .string(let value): value.debugDescription
        case .int64(let value): "\(value)"
        case .double(let value): "\(value)"
        case .strings(let values): "\(values)"
        case .int64s(let values): "\(values)"
        case .doubles(let values): "\(values)"
        }
    }
}
