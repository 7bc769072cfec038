/// The three products of a fully connected map `y = x Wᵀ + b` on row-major buffers, shared by `Dense` and by
/// convolutions whose kernel covers the whole input (a 1×1 output), which are the same map.
///
/// Shapes: `x` [n, inputs], `W` [outputs, inputs] (PyTorch's layout), `y` and `g` [n, outputs].
public enum LinearKernels {
    /// `y = alpha · x Wᵀ (+ biasScale · b)`, or `y += alpha · x Wᵀ (+ biasScale · b)` when `accumulate` is set.
    public static func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, n: Int, inputs: Int, outputs: Int, accumulate: Bool = false,
        alpha: Float = 1, biasScale: Float = 1
    ) {
        BLAS.gemm(
            transposeB: true, m: n, n: outputs, k: inputs, alpha: alpha, a: x, lda: inputs, b: weight, ldb: inputs,
            beta: accumulate ? 1 : 0, c: y, ldc: outputs)
        if let bias {
            for row in 0..<n { BLAS.axpy(outputs, alpha: biasScale, x: bias, y: y + row * outputs) }
        }
    }

    /// `dx = g W` (or `dx += g W`).
    public static func inputGradient(
        g: UnsafePointer<Float>, weight: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        n: Int, inputs: Int, outputs: Int, accumulate: Bool = false
    ) {
        BLAS.gemm(
            m: n, n: inputs, k: outputs, a: g, lda: outputs, b: weight, ldb: inputs,
            beta: accumulate ? 1 : 0, c: dx, ldc: inputs)
    }

    /// `dW = alpha · gᵀ x` and `db = biasScale · Σ_rows g` (or accumulated).
    public static func parameterGradients(
        g: UnsafePointer<Float>, x: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>?, n: Int, inputs: Int, outputs: Int, accumulate: Bool = false,
        alpha: Float = 1, biasScale: Float = 1
    ) {
        BLAS.gemm(
            transposeA: true, m: outputs, n: inputs, k: n, alpha: alpha, a: g, lda: outputs, b: x, ldb: inputs,
            beta: accumulate ? 1 : 0, c: dWeight, ldc: inputs)
        if let dBias {
            if !accumulate { dBias.update(repeating: 0, count: outputs) }
            for row in 0..<n { BLAS.axpy(outputs, alpha: biasScale, x: g + row * outputs, y: dBias) }
        }
    }
}
