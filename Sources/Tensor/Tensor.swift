import CBLAS

/// A dense, row-major Float32 tensor (NCHW for image batches) with value semantics.
///
/// Storage is a flat `[Float]`; kernels work on it through unsafe buffer pointers, never element by element.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    public private(set) var shape: Shape
    public var scalars: [Float]

    /// A tensor with the given shape and scalars; throws when the counts differ.
    public init(shape: Shape, scalars: [Float]) throws {
        guard shape.count == scalars.count else {
            throw TensorError.countMismatch(shape: shape, count: scalars.count)
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float = 0, shape: Shape) {
        MemoryPolicy.applied
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.count)
    }

    /// A tensor whose storage is written by `body` (every element must be written).
    public init(shape: Shape, unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        MemoryPolicy.applied
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: shape.count) { buffer, initialized in
            body(buffer)
            initialized = buffer.count
        }
    }

    /// A rank-1 tensor holding `vector`.
    public init(vector: [Float]) {
        shape = [vector.count]
        scalars = vector
    }

    public static func zeros(_ shape: Shape) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func zeros(like other: Tensor) -> Tensor { Tensor(repeating: 0, shape: other.shape) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.rank }
    public var description: String { "Tensor\(shape)" }

    /// The same scalars seen with another shape of equal count.
    public func reshaped(_ newShape: Shape) throws -> Tensor {
        guard newShape.count == shape.count else {
            throw TensorError.shapeMismatch(operation: "reshape", expected: newShape, got: shape)
        }
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Throws unless this tensor has exactly `expected` shape; the message names both shapes.
    public func check(_ expected: Shape, _ operation: String) throws {
        guard shape == expected else {
            throw TensorError.shapeMismatch(operation: operation, expected: expected, got: shape)
        }
    }

    /// Throws unless the tensor has rank `rank`; `pattern` names the expected layout, e.g. "[N, C, H, W]".
    public func checkRank(_ rank: Int, _ operation: String, pattern: String) throws {
        guard shape.rank == rank else {
            throw TensorError.invalidArgument(
                "\(operation): expected a rank-\(rank) tensor \(pattern), got shape \(shape)")
        }
    }

    /// Rows `range` of the first dimension (a mini-batch slice).
    public func rows(_ range: Range<Int>) -> Tensor {
        let stride = shape.sampleCount
        var dims = shape.dimensions
        dims[0] = range.count
        return Tensor(shape: Shape(dims)) { out in
            scalars.withUnsafeBufferPointer { src in
                out.baseAddress!.update(
                    from: src.baseAddress! + range.lowerBound * stride, count: range.count * stride)
            }
        }
    }

    /// The rows at `indices` of the first dimension, in that order (a shuffled mini-batch).
    public func gathering(rows indices: [Int]) -> Tensor {
        let stride = shape.sampleCount
        var dims = shape.dimensions
        dims[0] = indices.count
        return Tensor(shape: Shape(dims)) { out in
            scalars.withUnsafeBufferPointer { src in
                for (row, index) in indices.enumerated() {
                    (out.baseAddress! + row * stride).update(from: src.baseAddress! + index * stride, count: stride)
                }
            }
        }
    }

    /// Reads the storage through an unsafe pointer.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Writes the storage through an unsafe pointer (copies first if the storage is shared).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }
}
