/// A Winograd minimal-filtering convolution as `ConvolutionGeometry` runs it (`WinogradF2x3`, `CookToomWinograd`):
/// a weight transform `U` (which a `ConvolutionWeightCache` may keep), an input transform into `V` and an output
/// transform from `M`, around one GEMM per position ξ of the transformed tile:
/// ```
/// M[ξ] (O × tiles) = U[ξ] (O × C) · V[ξ] (C × tiles)
/// ```
/// The forward pass, the chunking, the block layout and the choice of a cached or a scratch `U` are shared here.
protocol WinogradAlgorithm {
    var geometry: ConvolutionGeometry { get }
    /// Tiles per sample.
    var tiles: Int { get }
    /// Positions ξ of the transformed tile: the GEMMs per chunk.
    var blocks: Int { get }
    /// Samples per chunk of the forward pass: `V` and `M` of a chunk hold blocks · (C + O) floats per tile column.
    var chunk: Int { get }
    /// This algorithm's key in a `ConvolutionWeightCache`.
    var cacheVariant: ConvolutionWeightCache.Variant { get }

    /// `U[ξ][o][c]`, blocks `blockStride(O·C)` apart.
    func transformWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>)
    /// `V[ξ][c][col]` for `channels` of `samples` (columns `col = (n, tile)` of the chunk).
    func transformInput(
        _ x: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into v: UnsafeMutablePointer<Float>,
        workspace: Workspace)
    /// `y (+)= alpha · (the output tiles of M)` for `channels` (output channels) of `samples`.
    func transformOutput(
        _ m: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into y: UnsafeMutablePointer<Float>,
        alpha: Float, accumulate: Bool, workspace: Workspace)
}

extension WinogradAlgorithm {
    /// Floats between the blocks ξ of U, V and M: the block size plus 16, so that the streams a transform writes (or
    /// reads) at once do not sit a power of two apart and evict each other from the caches (at 512×512 channels the
    /// unpadded F(2×2, 3×3) weight transform took a third of a ResNet18 layer4 step).
    static func blockStride(_ size: Int) -> Int { size + 16 }

    /// Floats in the transformed weights `U` (padded blocks of O × C).
    var transformedWeightCount: Int { blocks * Self.blockStride(geometry.outChannels * geometry.inChannels) }

    /// Samples per chunk: whole samples with at least `columns` tile columns (at least one sample, at most the batch).
    func chunk(columns: Int) -> Int { max(1, min(geometry.batch, (columns + tiles - 1) / tiles)) }

    /// Runs `body` with `U`: `transformed` when given, else computed into scratch.
    func withTransform(
        of weight: UnsafePointer<Float>, given transformed: UnsafePointer<Float>?, workspace: Workspace,
        _ body: (UnsafePointer<Float>) -> Void
    ) {
        if let transformed { return body(transformed) }
        workspace.withScratch(transformedWeightCount) { u in
            transformWeights(weight, into: u)
            body(u)
        }
    }

    /// Runs `body` with `U` from `cache` (transformed into it first if it holds none), or with nil without a cache.
    func withCachedTransform(
        of weight: UnsafePointer<Float>, cache: ConvolutionWeightCache?, _ body: (UnsafePointer<Float>?) -> Void
    ) {
        guard let cache else { return body(nil) }
        cache.withTransformed(weight, variant: cacheVariant, count: transformedWeightCount, transform: { w, u in
            // The padding between the blocks is never read, but a Swift array holds initialised floats.
            let size = geometry.outChannels * geometry.inChannels, stride = Self.blockStride(size)
            for block in 0..<blocks { (u + block * stride + size).update(repeating: 0, count: stride - size) }
            transformWeights(w, into: u)
        }, body)
    }

    /// `y = alpha · conv(x, W)` (or `y +=`), without bias; `transformed` is `U` when already known.
    func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, transformed: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, accumulate: Bool, alpha: Float, workspace: Workspace
    ) {
        let (inputs, outputs, batch) = (geometry.inChannels, geometry.outChannels, geometry.batch)
        let chunk = self.chunk
        let columns = chunk * tiles
        let uStride = Self.blockStride(outputs * inputs)
        withTransform(of: weight, given: transformed, workspace: workspace) { u in
            workspace.withScratch(
                blocks * Self.blockStride(inputs * columns), blocks * Self.blockStride(outputs * columns)
            ) { v, m in
                for start in stride(from: 0, to: batch, by: chunk) {
                    let samples = start..<min(start + chunk, batch)
                    let count = samples.count * tiles
                    let (vStride, mStride) = (Self.blockStride(inputs * count), Self.blockStride(outputs * count))
                    Parallel.forEach(inputs) { _, channels in
                        transformInput(x, samples: samples, channels: channels, into: v, workspace: workspace)
                    }
                    Parallel.forEach(blocks) { _, positions in
                        for xi in positions {
                            BLAS.gemm(
                                m: outputs, n: count, k: inputs, a: u + xi * uStride, lda: inputs,
                                b: v + xi * vStride, ldb: count, c: m + xi * mStride, ldc: count)
                        }
                    }
                    Parallel.forEach(outputs) { _, channels in
                        transformOutput(
                            m, samples: samples, channels: channels, into: y, alpha: alpha, accumulate: accumulate,
                            workspace: workspace)
                    }
                }
            }
        }
    }
}
