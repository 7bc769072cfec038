import CBLAS

/// Thin, typed wrappers over OpenBLAS's CBLAS interface (row-major throughout).
///
/// GradFeat owns the threads (`Parallel`): OpenBLAS runs single-threaded inside each worker, and `gemm` splits a
/// large product across the workers itself.
public enum BLAS {
    /// The cores GradFeat uses (`Parallel.workerCount`).
    public static var threadCount: Int { Parallel.workerCount }

    /// The kernel OpenBLAS selected for this processor (honours `OPENBLAS_CORETYPE`).
    public static var coreName: String { String(cString: gradfeat_blas_core()) }

    /// `C = alpha · op(A) · op(B) + beta · C` with `op(A)` m×k, `op(B)` k×n and `C` m×n, all row-major.
    @inlinable
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        _ = Parallel.workerCount // OpenBLAS single-threaded before its first call
        guard k > 0 else {
            // An empty inner dimension: C = beta · C.
            for row in 0..<m { scale(c + row * ldc, count: n, by: beta) }
            return
        }
        // A product worth splitting runs on all workers, by rows or by columns of C (whichever is longer), in
        // slices that are multiples of 64 so that every worker gets whole register tiles.
        guard m * n * k >= minimumSplitWork, max(m, n) >= 128 else {
            sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        Parallel.forEach(max(m, n), granularity: 64) { _, slice in
            if m >= n {
                sgemm(
                    transposeA, transposeB, slice.count, n, k, alpha,
                    a + slice.lowerBound * (transposeA ? 1 : lda), lda, b, ldb, beta, c + slice.lowerBound * ldc, ldc)
            } else {
                sgemm(
                    transposeA, transposeB, m, slice.count, k, alpha, a, lda,
                    b + slice.lowerBound * (transposeB ? ldb : 1), ldb, beta, c + slice.lowerBound, ldc)
            }
        }
    }

    /// `C = alpha · op(A) · op(B) + beta · C` in double precision, row-major, on OpenBLAS's own threads: for exact
    /// linear-model computations (Gram matrices, leave-one-out influence) where Float32 sums lose the digits they
    /// report.
    public static func dgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Double = 1, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        guard m > 0, n > 0, k > 0 else {
            if m > 0, n > 0 {
                for row in 0..<m {
                    for column in 0..<n { c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column] }
                }
            }
            return
        }
        _ = Parallel.workerCount
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Multiply–adds below which a product runs on one core (splitting costs more than it saves).
    @usableFromInline static let minimumSplitWork = 1 << 21

    @usableFromInline
    static func sgemm(
        _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y += alpha · x`.
    @inlinable
    public static func axpy(_ count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        _ = Parallel.workerCount
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// `x *= alpha` (beta = 0 clears, so NaNs in stale memory do not survive).
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by alpha: Float) {
        _ = Parallel.workerCount
        if alpha == 0 { x.update(repeating: 0, count: count) } else { cblas_sscal(Int32(count), alpha, x, 1) }
    }
}
