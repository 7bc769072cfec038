import CBLAS

/// The Cholesky factorisation `A = L Lᵀ` of a symmetric positive-definite matrix in double precision (LAPACK's
/// `dpotrf` through OpenBLAS), and solves `A X = B` with it. Exact linear-model computations (ridge solutions,
/// leave-one-out influence) factor the Gram matrix once and solve for many right-hand sides.
public struct Cholesky: Sendable {
    /// The order n of the matrix.
    public let order: Int
    /// The factor, column-major n × n (LAPACK's lower triangle; the upper triangle holds the input's values).
    private var factor: [Double]

    /// Factors the symmetric n × n `matrix` (row- or column-major: it is symmetric). Throws when it is not
    /// positive definite — for a Gram matrix `(1/N) ΦᵀΦ + λI`, when λ is 0 and Φ has dependent columns.
    public init(symmetric matrix: [Double], order n: Int) throws {
        guard n > 0, matrix.count == n * n else {
            throw TensorError.invalidArgument(
                "Cholesky: a matrix of order \(n) holds \(n * n) values, but \(matrix.count) were given")
        }
        guard matrix.allSatisfy(\.isFinite) else { throw TensorError.nonFinite(what: "the matrix to factor") }
        guard n <= Int(Int32.max) else { throw TensorError.invalidArgument("Cholesky: order \(n) is too large") }
        var a = matrix
        var order = Int32(n), info: Int32 = 0
        let uplo: CChar = 0x4C // "L"
        withUnsafePointer(to: uplo) { u in
            a.withUnsafeMutableBufferPointer { dpotrf_(u, &order, $0.baseAddress!, &order, &info, 1) }
        }
        if info > 0 {
            throw TensorError.invalidArgument(
                "the matrix is not positive definite (its leading minor of order \(info) is not): add a ridge "
                    + "λ > 0 (--wd) or use fewer, independent features")
        }
        guard info == 0 else {
            throw TensorError.invalidArgument("Cholesky: LAPACK dpotrf argument \(-info) is invalid")
        }
        self.order = n
        self.factor = a
    }

    /// Solves `A X = B` in place for `columns` right-hand sides, `b` column-major n × columns (each right-hand side
    /// contiguous).
    public func solve(_ b: inout [Double], columns: Int) throws {
        guard columns > 0 else { return }
        guard b.count == order * columns, columns <= Int(Int32.max) else {
            throw TensorError.invalidArgument(
                "Cholesky solve: \(columns) right-hand sides of order \(order) hold \(order * columns) values, but "
                    + "\(b.count) were given")
        }
        var n = Int32(order), count = Int32(columns), info: Int32 = 0
        let uplo: CChar = 0x4C
        withUnsafePointer(to: uplo) { u in
            factor.withUnsafeBufferPointer { a in
                b.withUnsafeMutableBufferPointer {
                    dpotrs_(u, &n, &count, a.baseAddress!, &n, $0.baseAddress!, &n, &info, 1)
                }
            }
        }
        guard info == 0 else {
            throw TensorError.invalidArgument("Cholesky: LAPACK dpotrs argument \(-info) is invalid")
        }
    }

    /// `A⁻¹ b` for one right-hand side.
    public func solve(_ b: [Double]) throws -> [Double] {
        var x = b
        try solve(&x, columns: 1)
        return x
    }
}
