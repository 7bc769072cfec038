/// Errors of tensor construction and of layers given inputs they cannot take.
public enum TensorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An operation expected one shape and was given another.
    case shapeMismatch(operation: String, expected: Shape, got: Shape)
    /// The number of scalars does not match the shape.
    case countMismatch(shape: Shape, count: Int)
    /// A value that must be finite was not (a diverged loss, a corrupt weight file).
    case nonFinite(what: String)
    /// A parameter argument is invalid (for example a kernel larger than the padded input).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, expected, got):
            return "\(operation): expected shape \(expected), got \(got)"
        case let .countMismatch(shape, count):
            return "shape \(shape) holds \(shape.count) scalars, but \(count) were given"
        case let .nonFinite(what):
            return "\(what) is not finite (NaN or infinity)"
        case let .invalidArgument(message):
            return message
        }
    }
}
