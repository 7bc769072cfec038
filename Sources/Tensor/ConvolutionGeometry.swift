/// The geometry of a 2-D convolution over an NCHW batch, and its three products computed as im2col + GEMM.
///
/// Three paths, chosen once from the geometry:
/// - `wholeInput`: the kernel covers the unpadded input (a 1×1 output): the convolution *is* a dense map on the
///   flattened input, computed without copies by `LinearKernels`.
/// - `pointwise`: a 1×1 kernel, stride 1, no padding: one GEMM per sample on the input as it lies, no copies.
/// - `general`: im2col of the whole batch into columns [C·kh·kw, N·Ho·Wo] (one large GEMM, efficient even when
///   Ho·Wo is small), then a permute from [O, N, Ho·Wo] to NCHW; the backward pass runs col2im.
public struct ConvolutionGeometry: Sendable, Equatable {
    public let batch: Int, inChannels: Int, height: Int, width: Int
    public let outChannels: Int, kernelHeight: Int, kernelWidth: Int
    public let strideY: Int, strideX: Int, padY: Int, padX: Int
    public let outHeight: Int, outWidth: Int

    public enum Path: Sendable { case wholeInput, pointwise, general }
    public let path: Path

    public init(
        batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
        kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    ) throws {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels
        (kernelHeight, kernelWidth) = kernel
        (strideY, strideX) = stride
        (padY, padX) = padding
        let paddedH = height + 2 * padY, paddedW = width + 2 * padX
        guard kernelHeight <= paddedH, kernelWidth <= paddedW else {
            throw TensorError.invalidArgument(
                "convolution: kernel \(kernelHeight)x\(kernelWidth) is larger than the padded input "
                    + "\(paddedH)x\(paddedW) (input [\(batch), \(inChannels), \(height), \(width)])")
        }
        outHeight = (paddedH - kernelHeight) / strideY + 1
        outWidth = (paddedW - kernelWidth) / strideX + 1
        if padY == 0, padX == 0, kernelHeight == height, kernelWidth == width {
            path = .wholeInput
        } else if kernelHeight == 1, kernelWidth == 1, strideY == 1, strideX == 1, padY == 0, padX == 0 {
            path = .pointwise
        } else {
            path = .general
        }
    }

    /// Scalars in one receptive field: C·kh·kw.
    public var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    /// Output positions per sample: Ho·Wo.
    public var positions: Int { outHeight * outWidth }
    public var inputShape: Shape { [batch, inChannels, height, width] }
    public var outputShape: Shape { [batch, outChannels, outHeight, outWidth] }
    public var weightShape: Shape { [outChannels, inChannels, kernelHeight, kernelWidth] }
    /// Multiply–adds of one forward pass, doubled: the FLOP count of forward, input- or weight-gradient.
    public var flops: Double { 2 * Double(batch * positions * outChannels * patchSize) }

    // MARK: Forward

    /// `y = conv(x, W) + b`, or `y += conv(x, W)` (no bias) when `accumulate` is set.
    public func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, accumulate: Bool = false, workspace: Workspace = .shared
    ) {
        switch path {
        case .wholeInput:
            LinearKernels.forward(
                x: x, weight: weight, bias: bias, y: y, n: batch, inputs: patchSize, outputs: outChannels,
                accumulate: accumulate)
        case .pointwise:
            for n in 0..<batch {
                BLAS.gemm(
                    m: outChannels, n: positions, k: inChannels, a: weight, lda: inChannels,
                    b: x + n * inChannels * positions, ldb: positions, beta: accumulate ? 1 : 0,
                    c: y + n * outChannels * positions, ldc: positions)
            }
            if let bias { addBias(bias, to: y) }
        case .general:
            let columnsCount = batch * positions
            workspace.withScratch(patchSize * columnsCount, outChannels * columnsCount) { columns, product in
                im2col(x, into: columns)
                BLAS.gemm(
                    m: outChannels, n: columnsCount, k: patchSize, a: weight, lda: patchSize,
                    b: columns, ldb: columnsCount, c: product, ldc: columnsCount)
                permuteFromChannelMajor(product, into: y, accumulate: accumulate)
            }
            if let bias { addBias(bias, to: y) }
        }
    }

    // MARK: Backward

    /// Gradients of `⟨g, conv(x, W) + b⟩`: `dx` (overwritten), `dW` and `db` (overwritten, or accumulated
    /// when `accumulate` is set). Any output may be nil to skip its work.
    public func backward(
        g: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
        dBias: UnsafeMutablePointer<Float>?, accumulate: Bool = false, workspace: Workspace = .shared
    ) {
        let beta: Float = accumulate ? 1 : 0
        switch path {
        case .wholeInput:
            if let dx {
                LinearKernels.inputGradient(
                    g: g, weight: weight, dx: dx, n: batch, inputs: patchSize, outputs: outChannels)
            }
            if let dWeight {
                LinearKernels.parameterGradients(
                    g: g, x: x, dWeight: dWeight, dBias: nil, n: batch, inputs: patchSize,
                    outputs: outChannels, accumulate: accumulate)
            }
        case .pointwise:
            for n in 0..<batch {
                let gn = g + n * outChannels * positions, xn = x + n * inChannels * positions
                if let dx {
                    BLAS.gemm(
                        transposeA: true, m: inChannels, n: positions, k: outChannels, a: weight,
                        lda: inChannels, b: gn, ldb: positions, c: dx + n * inChannels * positions,
                        ldc: positions)
                }
                if let dWeight {
                    BLAS.gemm(
                        transposeB: true, m: outChannels, n: inChannels, k: positions, a: gn, lda: positions,
                        b: xn, ldb: positions, beta: n == 0 ? beta : 1, c: dWeight, ldc: inChannels)
                }
            }
        case .general:
            let columnsCount = batch * positions
            workspace.withScratch(patchSize * columnsCount, outChannels * columnsCount) { columns, gradient in
                permuteToChannelMajor(g, into: gradient)
                if let dWeight {
                    im2col(x, into: columns)
                    BLAS.gemm(
                        transposeB: true, m: outChannels, n: patchSize, k: columnsCount, a: gradient,
                        lda: columnsCount, b: columns, ldb: columnsCount, beta: beta, c: dWeight, ldc: patchSize)
                }
                if let dx {
                    BLAS.gemm(
                        transposeA: true, m: patchSize, n: columnsCount, k: outChannels, a: weight,
                        lda: patchSize, b: gradient, ldb: columnsCount, c: columns, ldc: columnsCount)
                    col2im(columns, into: dx)
                }
            }
        }
        if let dBias { biasGradient(g, into: dBias, accumulate: accumulate) }
    }

    // MARK: Helpers

    private func addBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            for o in 0..<outChannels {
                let plane = y + (n * outChannels + o) * positions
                let b = bias[o]
                for i in 0..<positions { plane[i] += b }
            }
        }
    }

    private func biasGradient(_ g: UnsafePointer<Float>, into dBias: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if !accumulate { dBias.update(repeating: 0, count: outChannels) }
        for n in 0..<batch {
            for o in 0..<outChannels {
                let plane = g + (n * outChannels + o) * positions
                var s: Float = 0
                for i in 0..<positions { s += plane[i] }
                dBias[o] += s
            }
        }
    }

    /// [O, N·P] → [N, O, P].
    private func permuteFromChannelMajor(
        _ source: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let columnsCount = batch * positions
        for n in 0..<batch {
            for o in 0..<outChannels {
                let from = source + o * columnsCount + n * positions
                let to = y + (n * outChannels + o) * positions
                if accumulate {
                    for i in 0..<positions { to[i] += from[i] }
                } else {
                    to.update(from: from, count: positions)
                }
            }
        }
    }

    /// [N, O, P] → [O, N·P].
    private func permuteToChannelMajor(_ g: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
        let columnsCount = batch * positions
        for n in 0..<batch {
            for o in 0..<outChannels {
                (target + o * columnsCount + n * positions).update(
                    from: g + (n * outChannels + o) * positions, count: positions)
            }
        }
    }

    /// The output columns `ox` whose input column `ox·s − p + k` lies inside the image.
    @inline(__always)
    private func validRange(kernelOffset k: Int, stride s: Int, pad p: Int, inSize: Int, outSize: Int) -> Range<Int> {
        // ox·s − p + k ≥ 0  ⇔  ox ≥ ceil((p − k)/s);   ox·s − p + k ≤ inSize − 1  ⇔  ox ≤ floor((inSize − 1 + p − k)/s)
        let low = max(0, (p - k + s - 1) / s)
        let highNumerator = inSize - 1 + p - k
        let high = highNumerator < 0 ? -1 : min(outSize - 1, highNumerator / s)
        return low <= high ? low..<(high + 1) : 0..<0
    }

    /// Columns [C·kh·kw, N·Ho·Wo]: row (c, ky, kx), column (n, oy, ox) holds x[n, c, oy·s−p+ky, ox·s−p+kx] or 0.
    func im2col(_ x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>) {
        let columnsCount = batch * positions
        for c in 0..<inChannels {
            for ky in 0..<kernelHeight {
                let rowsY = validRange(kernelOffset: ky, stride: strideY, pad: padY, inSize: height, outSize: outHeight)
                for kx in 0..<kernelWidth {
                    let colsX = validRange(kernelOffset: kx, stride: strideX, pad: padX, inSize: width, outSize: outWidth)
                    let row = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * columnsCount
                    for n in 0..<batch {
                        let plane = x + (n * inChannels + c) * height * width
                        let out = row + n * positions
                        for oy in 0..<outHeight {
                            let line = out + oy * outWidth
                            guard rowsY.contains(oy), !colsX.isEmpty else {
                                line.update(repeating: 0, count: outWidth)
                                continue
                            }
                            let source = plane + (oy * strideY - padY + ky) * width - padX + kx
                            line.update(repeating: 0, count: colsX.lowerBound)
                            if strideX == 1 {
                                (line + colsX.lowerBound).update(from: source + colsX.lowerBound, count: colsX.count)
                            } else {
                                for ox in colsX { line[ox] = source[ox * strideX] }
                            }
                            (line + colsX.upperBound).update(repeating: 0, count: outWidth - colsX.upperBound)
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: sums each column entry back onto its input position (`dx` is overwritten).
    func col2im(_ columns: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: batch * inChannels * height * width)
        let columnsCount = batch * positions
        for c in 0..<inChannels {
            for ky in 0..<kernelHeight {
                let rowsY = validRange(kernelOffset: ky, stride: strideY, pad: padY, inSize: height, outSize: outHeight)
                for kx in 0..<kernelWidth {
                    let colsX = validRange(kernelOffset: kx, stride: strideX, pad: padX, inSize: width, outSize: outWidth)
                    if colsX.isEmpty { continue }
                    let row = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * columnsCount
                    for n in 0..<batch {
                        let plane = dx + (n * inChannels + c) * height * width
                        let source = row + n * positions
                        for oy in rowsY {
                            let line = source + oy * outWidth
                            let target = plane + (oy * strideY - padY + ky) * width - padX + kx
                            for ox in colsX { target[ox * strideX] += line[ox] }
                        }
                    }
                }
            }
        }
    }
}
