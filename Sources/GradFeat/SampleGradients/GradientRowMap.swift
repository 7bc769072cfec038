import Layers
import Tensor

/// How per-sample gradients become feature rows: exactly, |θ2| columns in θ2's order (`parameters` flattened, each
/// layer's weight then bias), or projected to K columns by a `KroneckerProjection`.
///
/// Either way each row is built from the layers' factors (`SampleGradientFactors`) with one or two small matrix
/// products a sample; the projected path never forms a |θ2|-wide row.
public enum GradientRowMap: Sendable {
    case exact
    case projected(KroneckerProjection)

    /// The width of a row for layers with these factors.
    public func dimension(for factors: [SampleGradientFactors]) -> Int {
        switch self {
        case .exact: return factors.reduce(0) { $0 + $1.parameterCount }
        case let .projected(projection): return projection.dimension
        }
    }

    /// The rows [N, D]: row n is sample n's gradient with respect to the parameters as stored, each tensor's
    /// gradient multiplied by its factor in `scales` (one per parameter tensor, in order; the NTK parametrization's
    /// `c`, else 1).
    public func rows(_ factors: [SampleGradientFactors], scales: [Float]) throws -> Tensor {
        let tensorCount = factors.reduce(0) { $0 + ($1.hasBias ? 2 : 1) }
        guard scales.count == tensorCount else {
            throw TensorError.invalidArgument("\(scales.count) parameter scales for \(tensorCount) parameter tensors")
        }
        if case let .projected(projection) = self, projection.blocks.count != factors.count {
            throw TensorError.invalidArgument(
                "the projection was made for \(projection.blocks.count) layers, the gradients have \(factors.count)")
        }
        let n = factors.first?.samples ?? 0
        let width = dimension(for: factors)
        var out = Tensor(shape: [n, width]) { _ in } // every element is written below
        guard n > 0 else { return out } // no rows (and no buffers to point into)
        var (column, scale) = (0, 0)
        for (index, factor) in factors.enumerated() {
            let weightScale = scales[scale], biasScale = factor.hasBias ? scales[scale + 1] : 0
            scale += factor.hasBias ? 2 : 1
            switch self {
            case .exact:
                Self.writeExact(factor, weightScale: weightScale, biasScale: biasScale, into: &out, column: column)
                column += factor.parameterCount
            case let .projected(projection):
                let block = projection.blocks[index]
                guard block.outputFactor.shape[1] == factor.outputs,
                    block.inputFactor.shape[1] == factor.inputs + (factor.hasBias ? 1 : 0)
                else {
                    throw TensorError.invalidArgument(
                        "projection block \(index + 1) is for a \(block.outputFactor.shape[1])×"
                            + "\(block.inputFactor.shape[1]) layer, the gradient's layer is \(factor.outputs)×"
                            + "\(factor.inputs + (factor.hasBias ? 1 : 0))")
                }
                Self.writeProjected(
                    factor, block, weightScale: weightScale, biasScale: biasScale, into: &out,
                    column: column)
                column += block.dimension
            }
        }
        return out
    }

    /// `s_w δₙ Zₙᵀ` and `s_b Σₚ δₙ` into columns `column…` of every row.
    private static func writeExact(
        _ factor: SampleGradientFactors, weightScale: Float, biasScale: Float, into out: inout Tensor, column: Int
    ) {
        let (n, o, i, p, width) = (factor.samples, factor.outputs, factor.inputs, factor.positions, out.shape[1])
        factor.outputGradient.withUnsafeBufferPointer { delta in
            factor.inputColumns.withUnsafeBufferPointer { z in
                out.withUnsafeMutableBufferPointer { rows in
                    let (delta, z, rows) = (delta.baseAddress!, z.baseAddress!, rows.baseAddress!)
                    _ = Parallel.forEach(n) { _, samples in
                        for sample in samples {
                            let d = delta + sample * o * p, row = rows + sample * width + column
                            BLAS.gemm(
                                transposeB: true, m: o, n: i, k: p, alpha: weightScale, a: d, lda: p,
                                b: z + sample * i * p, ldb: p, c: row, ldc: i)
                            guard factor.hasBias else { continue }
                            for output in 0..<o {
                                var sum: Float = 0
                                for position in 0..<p { sum += d[output * p + position] }
                                row[o * i + output] = biasScale * sum
                            }
                        }
                    }
                }
            }
        }
    }

    /// `(A δₙ)(s_w B_z Zₙ + s_b B_1 1ᵀ)ᵀ`, a·b values, into columns `column…` of every row.
    private static func writeProjected(
        _ factor: SampleGradientFactors, _ block: KroneckerProjection.Block, weightScale: Float, biasScale: Float,
        into out: inout Tensor, column: Int
    ) {
        let (n, o, i, p, width) = (factor.samples, factor.outputs, factor.inputs, factor.positions, out.shape[1])
        let (a, b, columns) = (block.outputFactor.shape[0], block.inputFactor.shape[0], block.inputFactor.shape[1])
        factor.outputGradient.withUnsafeBufferPointer { delta in
            factor.inputColumns.withUnsafeBufferPointer { z in
                block.outputFactor.withUnsafeBufferPointer { outputFactor in
                    block.inputFactor.withUnsafeBufferPointer { inputFactor in
                        out.withUnsafeMutableBufferPointer { rows in
                            let (delta, z, rows) = (delta.baseAddress!, z.baseAddress!, rows.baseAddress!)
                            let (pa, pb) = (outputFactor.baseAddress!, inputFactor.baseAddress!)
                            /// `B_1 s_b` added to each of `count` columns (stride `stride`) of the b rows at `target`.
                            func addBias(_ target: UnsafeMutablePointer<Float>, count: Int, stride: Int, rowStride: Int)
                            {
                                guard factor.hasBias else { return }
                                for j in 0..<b {
                                    let value = biasScale * pb[j * columns + i]
                                    for k in 0..<count { target[j * rowStride + k * stride] += value }
                                }
                            }
                            if p == 1 {
                                // Rank one: both factors of the whole batch in two GEMMs, then one outer product a sample.
                                Workspace.shared.withScratch(n * a, n * b) { left, right in
                                    BLAS.gemm(
                                        transposeB: true, m: n, n: a, k: o, a: delta, lda: o, b: pa, ldb: o,
                                        c: left, ldc: a)
                                    BLAS.gemm(
                                        transposeB: true, m: n, n: b, k: i, alpha: weightScale, a: z, lda: i,
                                        b: pb, ldb: columns, c: right, ldc: b)
                                    addBias(right, count: n, stride: b, rowStride: 1)
                                    _ = Parallel.forEach(n) { _, samples in
                                        for sample in samples {
                                            let row = rows + sample * width + column
                                            let (l, r) = (left + sample * a, right + sample * b)
                                            for x in 0..<a {
                                                let lx = l[x], target = row + x * b
                                                for y in 0..<b { target[y] = lx * r[y] }
                                            }
                                        }
                                    }
                                }
                                return
                            }
                            _ = Parallel.forEach(n) { _, samples in
                                Workspace.shared.withScratch(a * p, b * p) { left, right in
                                    for sample in samples {
                                        BLAS.gemm(
                                            m: a, n: p, k: o, a: pa, lda: o, b: delta + sample * o * p, ldb: p,
                                            c: left, ldc: p)
                                        BLAS.gemm(
                                            m: b, n: p, k: i, alpha: weightScale, a: pb, lda: columns,
                                            b: z + sample * i * p, ldb: p, c: right, ldc: p)
                                        addBias(right, count: p, stride: 1, rowStride: p)
                                        BLAS.gemm(
                                            transposeB: true, m: a, n: b, k: p, a: left, lda: p, b: right,
                                            ldb: p, c: rows + sample * width + column, ldc: b)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
