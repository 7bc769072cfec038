import CBLAS

/// Thin, typed wrappers over OpenBLAS's CBLAS interface (row-major throughout).
///
/// OpenBLAS owns the threads: GradFeat's own loops stay single-threaded so the two never oversubscribe the cores.
public enum BLAS {
    /// The number of threads OpenBLAS uses.
    public static var threadCount: Int {
        get { Int(gradfeat_blas_threads()) }
        set { gradfeat_blas_set_threads(Int32(newValue)) }
    }

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
        guard k > 0 else {
            // An empty inner dimension: C = beta · C.
            for row in 0..<m { scale(c + row * ldc, count: n, by: beta) }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y += alpha · x`.
    @inlinable
    public static func axpy(_ count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// `x *= alpha` (beta = 0 clears, so NaNs in stale memory do not survive).
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by alpha: Float) {
        if alpha == 0 { x.update(repeating: 0, count: count) } else { cblas_sscal(Int32(count), alpha, x, 1) }
    }
}
