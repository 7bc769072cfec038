import CKernels

/// The geometry of a 2-D convolution over an NCHW batch, and its three products computed as im2col + GEMM, or by
/// Winograd's minimal filtering where it fits: F(2×2, 3×3) for every product of 3×3 stride-1 convolutions
/// (`usesWinograd`), F(m×m, 4×4) from the Cook–Toom construction for the forward pass of 4×4 stride-1 ones
/// (`cookToomTile`).
///
/// Three paths, chosen once from the geometry:
/// - `wholeInput`: the kernel covers the unpadded input (a 1×1 output): the convolution *is* a dense map on the
///   flattened input, computed without copies by `LinearKernels`.
/// - `pointwise`: a 1×1 kernel, stride 1, no padding: one GEMM per sample on the input as it lies, no copies.
/// - `general`: the batch is split across the workers (`Parallel`); each runs chunks of whole samples: im2col into
///   columns [C·kh·kw, n·Ho·Wo] that fit its L2 cache (several samples per GEMM when Ho·Wo is small), one GEMM,
///   then a permute from [O, n, Ho·Wo] to NCHW (none for a one-sample chunk); the backward pass runs col2im and
///   sums the workers' weight gradients.
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
        usesWinograd =
            path == .general && kernelHeight == 3 && kernelWidth == 3 && strideY == 1 && strideX == 1
            && padY <= 2 && padX <= 2 && inChannels >= 16 && outChannels >= 16
        let fitsCookToom =
            path == .general && kernelHeight == 4 && kernelWidth == 4 && strideY == 1 && strideX == 1
            && padY < 4 && padX < 4 && inChannels >= 16 && outChannels >= 16
        cookToomTile = fitsCookToom ? Self.cookToomTile(kernel: 4, outHeight: outHeight, outWidth: outWidth) : nil
    }

    /// The output tile m (input tile α = m + 3 ≤ 8) with the fewest GEMM multiplies, tiles · α², for a 4×4 kernel.
    /// Measured on bigan-cifar's conv3 (64→128, 10×10 outputs; ConvBench forward GFLOP/s, im2col-equivalent, two
    /// runs): im2col 156–167, m = 2: 172–196, 3: 130–142, 4: 135–176, 5: 199–253 (the rule's pick, 2×2 tiles).
    /// Other kernel sizes have not been measured, so they keep im2col (or `WinogradF2x3` for 3×3).
    static func cookToomTile(kernel r: Int, outHeight: Int, outWidth: Int) -> Int {
        func cost(_ m: Int) -> Int {
            let tiles = ((outHeight + m - 1) / m) * ((outWidth + m - 1) / m)
            return tiles * (m + r - 1) * (m + r - 1)
        }
        return (2...(9 - r)).min { (cost($0), $0) < (cost($1), $1) }!
    }

    /// The output tile m of the forward pass by Winograd's F(m×m, r×r) built by Cook–Toom (`CookToomWinograd`), nil
    /// where the forward pass runs otherwise.
    public let cookToomTile: Int?

    /// Whether the forward and backward passes run Winograd's F(2×2, 3×3) (`WinogradF2x3`): 3×3 kernels at stride 1
    /// with at least 16 input and output channels (fewer make its 16 GEMMs too thin to pay for the transforms).
    public let usesWinograd: Bool

    /// Samples per im2col + GEMM chunk of the forward pass: columns of about 1 MB (whole samples, at least one, and
    /// at least 256 output positions: see `samples(fitting:)`), so that each worker's columns stay in its core's L2
    /// cache between im2col and the GEMM. Measured on
    /// bigan-cifar's conv1–4 at batch 128 (ConvBench, 2 workers): 256 KB–2 MB chunks within noise, 4 MB–16 MB
    /// chunks 10–60 % slower.
    var forwardChunk: Int { samples(fitting: 1 << 18) }
    /// Samples per chunk of the backward pass: 2 MB of columns; the weight gradient's GEMM sums over the chunk, so
    /// it likes them longer than the forward pass does, but 8 MB chunks were 10–25 % slower.
    var backwardChunk: Int { samples(fitting: 1 << 19) }

    /// Whole samples (at least one) whose columns fit in `budget` floats, but at least 256 output positions: a
    /// narrower GEMM (ResNet18's layer4 at 4×4: 3 samples, 48 columns) ran at 75–80 % of the rate of a 256-wide one.
    private func samples(fitting budget: Int) -> Int {
        let minimumSamples = (256 + positions - 1) / positions
        return max(1, min(batch, max(minimumSamples, budget / max(1, patchSize * positions))))
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

    /// `y = alpha · conv(x, W) + biasScale · b`, or `y += …` when `accumulate` is set (every element of `y` is
    /// written, so `y` may be uninitialised unless accumulating). With `negativeSlope`, `y = σ(alpha · conv(x, W) +
    /// biasScale · b)` for the piecewise-linear activation σ with that slope, in the same pass as the bias (not with
    /// `accumulate`). `weightCache`, when given, holds `weight`'s transform across calls (only Winograd's path uses
    /// one).
    public func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, accumulate: Bool = false, alpha: Float = 1, biasScale: Float = 1,
        negativeSlope: Float? = nil, weightCache: ConvolutionWeightCache? = nil, workspace: Workspace = .shared
    ) {
        precondition(!accumulate || negativeSlope == nil, "an activation after an accumulating convolution")
        // The im2col path finishes each chunk while it is in the cache (and says so); the dense path adds the bias
        // itself.
        var finishedPerChunk = false
        defer {
            if !finishedPerChunk {
                finishOutput(
                    y, samples: 0..<batch, bias: path == .wholeInput ? nil : bias, scale: biasScale,
                    negativeSlope: negativeSlope, inParallel: true)
            }
        }
        switch path {
        case .wholeInput:
            LinearKernels.forward(
                x: x, weight: weight, bias: bias, y: y, n: batch, inputs: patchSize, outputs: outChannels,
                accumulate: accumulate, alpha: alpha, biasScale: biasScale)
        case .pointwise:
            for n in 0..<batch {
                BLAS.gemm(
                    m: outChannels, n: positions, k: inChannels, alpha: alpha, a: weight, lda: inChannels,
                    b: x + n * inChannels * positions, ldb: positions, beta: accumulate ? 1 : 0,
                    c: y + n * outChannels * positions, ldc: positions)
            }
        case .general where cookToomTile != nil:
            forwardWinograd(
                CookToomWinograd(self, outputTile: cookToomTile!), x: x, weight: weight, y: y, accumulate: accumulate,
                alpha: alpha, weightCache: weightCache, workspace: workspace)
        case .general where usesWinograd:
            forwardWinograd(
                WinogradF2x3(self), x: x, weight: weight, y: y, accumulate: accumulate, alpha: alpha,
                weightCache: weightCache, workspace: workspace)
        case .general:
            // Each worker runs its slice of the batch in chunks of whole samples (`forwardChunk`); a one-sample
            // chunk's product is already NCHW, so the GEMM writes it in place.
            let chunk = forwardChunk
            finishedPerChunk = true
            Parallel.forEach(batch) { _, slice in
                workspace.withScratch(patchSize * chunk * positions, outChannels * chunk * positions) {
                    columns, product in
                    for start in stride(from: slice.lowerBound, to: slice.upperBound, by: chunk) {
                        let samples = start..<min(start + chunk, slice.upperBound)
                        let count = samples.count * positions
                        im2col(x, samples: samples, into: columns, workspace: workspace)
                        let direct = samples.count == 1
                        BLAS.gemm(
                            m: outChannels, n: count, k: patchSize, alpha: alpha, a: weight, lda: patchSize,
                            b: columns, ldb: count, beta: direct && accumulate ? 1 : 0,
                            c: direct ? y + start * outChannels * positions : product, ldc: count)
                        if !direct {
                            permuteFromChannelMajor(product, samples: samples, into: y, accumulate: accumulate)
                        }
                        finishOutput(
                            y, samples: samples, bias: bias, scale: biasScale, negativeSlope: negativeSlope,
                            inParallel: false)
                    }
                }
            }
        }
    }

    // MARK: Backward

    /// Gradients of `⟨g, conv(x, W) + b⟩`: `dx` (overwritten), `dW` and `db` (overwritten, or accumulated
    /// when `accumulate` is set), the last two multiplied by `weightScale` and `biasScale`. Any output may be nil
    /// to skip its work; outputs that are overwritten may be uninitialised. `weightCache` as in `forward`.
    public func backward(
        g: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
        dBias: UnsafeMutablePointer<Float>?, accumulate: Bool = false, weightScale: Float = 1,
        biasScale: Float = 1, weightCache: ConvolutionWeightCache? = nil, workspace: Workspace = .shared
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
                    outputs: outChannels, accumulate: accumulate, alpha: weightScale)
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
                        transposeB: true, m: outChannels, n: inChannels, k: positions, alpha: weightScale, a: gn,
                        lda: positions,
                        b: xn, ldb: positions, beta: n == 0 ? beta : 1, c: dWeight, ldc: inChannels)
                }
            }
        case .general where usesWinograd:
            // The input gradient needs U; the weight gradient alone does not.
            let winograd = WinogradF2x3(self)
            winograd.withCachedTransform(of: weight, cache: dx == nil ? nil : weightCache) { u in
                winograd.backward(
                    gradient: g, x: x, weight: weight, transformed: u, dx: dx, dWeight: dWeight,
                    accumulate: accumulate, weightScale: weightScale, workspace: workspace)
            }
        case .general:
            // Each worker runs its slice of the batch in chunks (`backwardChunk`); worker 0 accumulates its weight
            // gradient into `dWeight`, the others into their own partial sums, added at the end.
            let chunk = backwardChunk
            let weightCount = outChannels * patchSize
            if batch == 0, let dWeight, !accumulate { dWeight.update(repeating: 0, count: weightCount) }
            let workers = Parallel.workerCount
            workspace.withScratch(dWeight == nil ? 0 : (workers - 1) * weightCount) { partials in
                let used = Parallel.forEach(batch) { worker, slice in
                    workspace.withScratch(patchSize * chunk * positions, outChannels * chunk * positions) {
                        columns, permuted in
                        for start in stride(from: slice.lowerBound, to: slice.upperBound, by: chunk) {
                            let samples = start..<min(start + chunk, slice.upperBound)
                            let count = samples.count * positions
                            // A one-sample chunk of g is already [O, P].
                            let gradient: UnsafePointer<Float>
                            if samples.count == 1 {
                                gradient = g + start * outChannels * positions
                            } else {
                                permuteToChannelMajor(g, samples: samples, into: permuted)
                                gradient = UnsafePointer(permuted)
                            }
                            if let dWeight {
                                let target = worker == 0 ? dWeight : partials + (worker - 1) * weightCount
                                let first = start == slice.lowerBound
                                im2col(x, samples: samples, into: columns, workspace: workspace)
                                BLAS.gemm(
                                    transposeB: true, m: outChannels, n: patchSize, k: count, alpha: weightScale,
                                    a: gradient, lda: count, b: columns, ldb: count,
                                    beta: first ? (worker == 0 ? beta : 0) : 1, c: target, ldc: patchSize)
                            }
                            if let dx {
                                BLAS.gemm(
                                    transposeA: true, m: patchSize, n: count, k: outChannels, a: weight,
                                    lda: patchSize, b: gradient, ldb: count, c: columns, ldc: count)
                                col2im(columns, samples: samples, into: dx)
                            }
                        }
                    }
                }
                if let dWeight {
                    for worker in 1..<used {
                        BLAS.axpy(weightCount, alpha: 1, x: partials + (worker - 1) * weightCount, y: dWeight)
                    }
                }
            }
        }
        if let dBias { biasGradient(g, into: dBias, scale: biasScale, accumulate: accumulate) }
    }

    // MARK: Helpers

    /// `y (+)= alpha · conv(x, W)` by `algorithm`, with `U` from `weightCache` when given.
    private func forwardWinograd(
        _ algorithm: some WinogradAlgorithm, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, accumulate: Bool, alpha: Float, weightCache: ConvolutionWeightCache?,
        workspace: Workspace
    ) {
        algorithm.withCachedTransform(of: weight, cache: weightCache) { u in
            algorithm.forward(
                x: x, weight: weight, transformed: u, y: y, accumulate: accumulate, alpha: alpha, workspace: workspace)
        }
    }

    /// `y = σ(y + scale · b)` over the planes of `samples` in one pass: the bias when given, the activation with
    /// `negativeSlope` when given; split across the workers when `inParallel`.
    private func finishOutput(
        _ y: UnsafeMutablePointer<Float>, samples: Range<Int>, bias: UnsafePointer<Float>?, scale: Float,
        negativeSlope: Float?, inParallel: Bool
    ) {
        guard bias != nil || negativeSlope != nil, !samples.isEmpty else { return }
        let first = samples.lowerBound * outChannels * positions
        let count = samples.count * outChannels * positions
        // Slices of whole planes, so that each plane's bias is looked up once.
        func finish(_ range: Range<Int>) {
            for plane in (range.lowerBound / positions)..<((range.upperBound + positions - 1) / positions) {
                let b = bias.map { scale * $0[plane % outChannels] } ?? 0
                let start = max(range.lowerBound, plane * positions),
                    end = min(range.upperBound, (plane + 1) * positions)
                if let slope = negativeSlope {
                    for i in start..<end {
                        let v = y[i] + b
                        y[i] = v > 0 ? v : slope * v
                    }
                } else {
                    for i in start..<end { y[i] += b }
                }
            }
        }
        if inParallel {
            Parallel.forEachSlice(of: count) { range in finish((first + range.lowerBound)..<(first + range.upperBound))
            }
        } else {
            finish(first..<(first + count))
        }
    }

    private func biasGradient(
        _ g: UnsafePointer<Float>, into dBias: UnsafeMutablePointer<Float>, scale: Float, accumulate: Bool
    ) {
        if !accumulate { dBias.update(repeating: 0, count: outChannels) }
        for n in 0..<batch {
            for o in 0..<outChannels {
                let plane = g + (n * outChannels + o) * positions
                var s: Float = 0
                for i in 0..<positions { s += plane[i] }
                dBias[o] += scale * s
            }
        }
    }

    /// [O, N·P] → [N, O, P].
    private func permuteFromChannelMajor(
        _ source: UnsafePointer<Float>, samples: Range<Int>, into y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let columnsCount = samples.count * positions
        for n in samples {
            for o in 0..<outChannels {
                let from = source + o * columnsCount + (n - samples.lowerBound) * positions
                let to = y + (n * outChannels + o) * positions
                if accumulate {
                    to.addShortLine(from: from, count: positions)
                } else {
                    to.copyShortLine(from: from, count: positions)
                }
            }
        }
    }

    /// [N, O, P] → [O, N·P] for the given samples.
    private func permuteToChannelMajor(
        _ g: UnsafePointer<Float>, samples: Range<Int>, into target: UnsafeMutablePointer<Float>
    ) {
        let columnsCount = samples.count * positions
        for n in samples {
            for o in 0..<outChannels {
                (target + o * columnsCount + (n - samples.lowerBound) * positions).copyShortLine(
                    from: g + (n * outChannels + o) * positions, count: positions)
            }
        }
    }

    /// The geometry as the C kernels take it.
    private var kernelGeometry: gf_convolution {
        gf_convolution(
            channels: inChannels, height: height, width: width, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideY: strideY, strideX: strideX, padY: padY, padX: padX, outHeight: outHeight, outWidth: outWidth)
    }

    /// Columns [C·kh·kw, N·Ho·Wo]: row (c, ky, kx), column (n, oy, ox) holds x[n, c, oy·s−p+ky, ox·s−p+kx] or 0
    /// (`gf_im2col`, in C for the machine's vector width).
    func im2col(
        _ x: UnsafePointer<Float>, samples: Range<Int>, into columns: UnsafeMutablePointer<Float>,
        workspace: Workspace = .shared
    ) {
        let geometry = kernelGeometry
        var cornerCount = 0
        let paddedCount = gf_im2col_scratch(geometry, samples.count, &cornerCount)
        workspace.withScratch(paddedCount, cornerCount) { paddedPlanes, corners in
            corners.withMemoryRebound(to: Int32.self, capacity: cornerCount) { corners in
                gf_im2col(
                    x + samples.lowerBound * inChannels * height * width, samples.count, geometry, columns,
                    paddedPlanes, corners, x + batch * inChannels * height * width)
            }
        }
    }

    /// The adjoint of `im2col`: sums each column entry back onto its input position (the samples' part of `dx` is
    /// overwritten; `gf_col2im`).
    func col2im(_ columns: UnsafePointer<Float>, samples: Range<Int>, into dx: UnsafeMutablePointer<Float>) {
        gf_col2im(columns, samples.count, kernelGeometry, dx + samples.lowerBound * inChannels * height * width)
    }
}
