// Swift types that can be stored as attributes.

/// A Swift type that can be written as an attribute and read back from one:
/// `String`, `Int64`, `Int`, `Double`, and arrays of them.
///
/// A one-element array and a scalar convert into each other, so `[Int64]` reads a scalar
/// attribute and `Int64` reads a one-element array; anything else of another type is refused.
public protocol HDF5AttributeConvertible: Sendable {
    /// The value to store.
    var hdf5AttributeValue: HDF5AttributeValue { get }
    /// Converts a stored value, or returns nil when it has another type.
    init?(hdf5AttributeValue: HDF5AttributeValue)
}

/// An attribute type that can also be an array element (`[String]`, `[Int64]`, `[Int]`, `[Double]`).
public protocol HDF5AttributeElement: HDF5AttributeConvertible {
    /// The stored value of an array of this type.
    static func hdf5AttributeValue(of values: [Self]) -> HDF5AttributeValue
    /// Converts a stored value to an array, or returns nil when it has another type.
    static func array(from value: HDF5AttributeValue) -> [Self]?
}

extension HDF5AttributeElement {
    public init?(hdf5AttributeValue value: HDF5AttributeValue) {
        guard let values = Self.array(from: value), values.count == 1 else { return nil }
        self = values[0]
    }
}

extension Array: HDF5AttributeConvertible where Element: HDF5AttributeElement {
    public var hdf5AttributeValue: HDF5AttributeValue { Element.hdf5AttributeValue(of: self) }

    public init?(hdf5AttributeValue value: HDF5AttributeValue) {
        guard let values = Element.array(from: value) else { return nil }
        self = values
    }
}

extension String: HDF5AttributeElement {
    public var hdf5AttributeValue: HDF5AttributeValue { .string(self) }

    public static func hdf5AttributeValue(of values: [String]) -> HDF5AttributeValue { .strings(values) }

    public static func array(from value: HDF5AttributeValue) -> [String]? {
        switch value {
        case .string(let value): [value]
        case .strings(let values): values
        default: nil
        }
    }
}

extension Int64: HDF5AttributeElement {
    public var hdf5AttributeValue: HDF5AttributeValue { .int64(self) }

    public static func hdf5AttributeValue(of values: [Int64]) -> HDF5AttributeValue { .int64s(values) }

    public static func array(from value: HDF5AttributeValue) -> [Int64]? {
        switch value {
        case .int64(let value): [value]
        case .int64s(let values): values
        default: nil
        }
    }
}

extension Int: HDF5AttributeElement {
    public var hdf5AttributeValue: HDF5AttributeValue { .int64(Int64(self)) }

    public static func hdf5AttributeValue(of values: [Int]) -> HDF5AttributeValue { .int64s(values.map(Int64.init)) }

    public static func array(from value: HDF5AttributeValue) -> [Int]? {
        Int64.array(from: value).map { $0.map { Int($0) } }
    }
}

extension Double: HDF5AttributeElement {
    public var hdf5AttributeValue: HDF5AttributeValue { .double(self) }

    public static func hdf5AttributeValue(of values: [Double]) -> HDF5AttributeValue { .doubles(values) }

    public static func array(from value: HDF5AttributeValue) -> [Double]? {
        switch value {
        case .double(let value): [value]
        case .doubles(let values): values
        default: nil
        }
    }
}
