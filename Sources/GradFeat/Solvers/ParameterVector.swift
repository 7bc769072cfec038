import Tensor

/// An extractor's parameters (or a direction in their space) as one Float64 vector: the solvers' iterates,
/// residuals and search directions, whose sums lose nothing of the Float32 passes that feed them.
public struct ParameterVector: Sendable, Equatable {
    public var values: [Double]
    /// The shapes of the tensors the vector is cut into, in order.
    public let shapes: [Shape]

    public init(values: [Double], shapes: [Shape]) {
        precondition(values.count == shapes.reduce(0) { $0 + $1.count }, "ParameterVector: size and shapes disagree")
        self.values = values
        self.shapes = shapes
    }

    /// The tensors, widened.
    public init(_ tensors: [Tensor]) {
        var values = [Double]()
        values.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for tensor in tensors { tensor.withUnsafeBufferPointer { values.append(contentsOf: $0.lazy.map(Double.init)) } }
        self.init(values: values, shapes: tensors.map(\.shape))
    }

    /// Zeros shaped like `tensors`.
    public static func zeros(like tensors: [Tensor]) -> ParameterVector {
        ParameterVector(
            values: [Double](repeating: 0, count: tensors.reduce(0) { $0 + $1.count }),
            shapes: tensors.map(\.shape))
    }

    public var count: Int { values.count }

    /// The vector rounded to Float32 tensors of its shapes (what an extractor's passes read).
    public var tensors: [Tensor] {
        var offset = 0
        return shapes.map { shape in
            defer { offset += shape.count }
            return Tensor(shape: shape) { out in
                values.withUnsafeBufferPointer { v in
                    for i in 0..<shape.count { out[i] = Float(v[offset + i]) }
                }
            }
        }
    }

    /// `Σ aᵢ bᵢ`.
    public func dot(_ other: ParameterVector) -> Double {
        precondition(other.count == count, "ParameterVector: sizes \(other.count) and \(count) differ")
        return values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                var sum = 0.0
                for i in 0..<a.count { sum += a[i] * b[i] }
                return sum
            }
        }
    }

    public var squaredNorm: Double { dot(self) }
    public var norm: Double { squaredNorm.squareRoot() }
    public var isFinite: Bool { values.allSatisfy(\.isFinite) }

    /// `self += alpha · x`.
    public mutating func add(_ x: ParameterVector, scaledBy alpha: Double = 1) {
        precondition(x.count == count, "ParameterVector: sizes \(x.count) and \(count) differ")
        values.withUnsafeMutableBufferPointer { a in
            x.values.withUnsafeBufferPointer { b in
                for i in 0..<a.count { a[i] += alpha * b[i] }
            }
        }
    }

    /// `self = x + beta · self` (CG's new search direction).
    public mutating func scaleAndAdd(_ beta: Double, _ x: ParameterVector) {
        precondition(x.count == count, "ParameterVector: sizes \(x.count) and \(count) differ")
        values.withUnsafeMutableBufferPointer { a in
            x.values.withUnsafeBufferPointer { b in
                for i in 0..<a.count { a[i] = b[i] + beta * a[i] }
            }
        }
    }

    public mutating func scale(by alpha: Double) {
        values.withUnsafeMutableBufferPointer { a in for i in 0..<a.count { a[i] *= alpha } }
    }

    /// The elementwise product (a diagonal preconditioner's application).
    public func multiplied(by other: ParameterVector) -> ParameterVector {
        precondition(other.count == count, "ParameterVector: sizes \(other.count) and \(count) differ")
        var result = self
        result.values.withUnsafeMutableBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in for i in 0..<a.count { a[i] *= b[i] } }
        }
        return result
    }

    /// Adds Float32 gradients (shaped like the vector) scaled by `alpha`; throws when they have other shapes (an
    /// extractor whose `parameterGradients` does not match its parameters).
    mutating func accumulate(_ tensors: [Tensor], scaledBy alpha: Double = 1) throws {
        guard tensors.map(\.shape) == shapes else {
            throw TensorError.invalidArgument(
                "parameter gradients shaped \(tensors.map(\.shape.dimensions)), parameters \(shapes.map(\.dimensions))")
        }
        var offset = 0
        values.withUnsafeMutableBufferPointer { a in
            for tensor in tensors {
                tensor.withUnsafeBufferPointer { t in
                    for i in 0..<t.count { a[offset + i] += alpha * Double(t[i]) }
                }
                offset += tensor.count
            }
        }
    }
}
