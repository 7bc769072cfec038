/// The dimensions of a dense tensor, outermost first (NCHW for images).
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dimensions: [Int]

    public init(_ dimensions: [Int]) { self.dimensions = dimensions }
    public init(arrayLiteral elements: Int...) { self.dimensions = elements }

    public var rank: Int { dimensions.count }
    /// The number of scalars, the product of the dimensions (1 for a scalar shape).
    public var count: Int { dimensions.reduce(1, *) }
    public subscript(axis: Int) -> Int { dimensions[axis] }

    /// The product of the dimensions after the first: the size of one sample of a batch.
    public var sampleCount: Int { dimensions.dropFirst().reduce(1, *) }

    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}
