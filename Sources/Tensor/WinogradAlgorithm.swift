import CKernels

/// A Winograd minimal-filtering convolution as `ConvolutionGeometry` runs it (`WinogradF2x3`, `CookToomWinograd`):
/// a weight transform `U` (which a `ConvolutionWeightCache` may keep), an input transform into `V` and an output
/// transform from `M`, around one GEMM per position ξ of the transformed tile:
/// ```
/// M[ξ] (O × tiles) = U[ξ] (O × C) · V[ξ] (C × tiles)
/// ```
/// The forward pass, the chunking, the block layout, the input and output transforms and the choice of a cached or a
/// scratch `U` are shared here. The transforms run a channel at a time over all tiles of a chunk, in C (`CKernels`,
/// built for AVX-512, AVX2 and the baseline, picked at run time): `gf_tile` cuts the tiles out side by side
/// (`D[i][j][tile]`), `gf_transform_tiles` computes `Bᵀ D B` (or `Aᵀ M A`) for 16 tiles per vector, and `gf_untile`
/// writes the output tiles into the planes.
protocol WinogradAlgorithm {
    var geometry: ConvolutionGeometry { get }
    /// Tiles per sample.
    var tiles: Int { get }
    /// Positions ξ of the transformed tile: the GEMMs per chunk.
    var blocks: Int { get }
    /// Samples per chunk of the forward pass: `V` and `M` of a chunk hold blocks · (C + O) floats per tile column.
    /// With at least two chunks per worker, each worker runs whole chunks of its own samples; otherwise the workers
    /// share each chunk, every phase split along its own axis (channels, the GEMMs).
    var chunk: Int { get }
    /// This algorithm's key in a `ConvolutionWeightCache`.
    var cacheVariant: ConvolutionWeightCache.Variant { get }

    /// `U[ξ][o][c]`, blocks `blockStride(O·C)` apart.
    func transformWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>)
    /// Output tile m, input tile α = m + r − 1 (tiles are m apart), and the tiles per sample along each axis.
    var outputTile: Int { get }
    var inputTile: Int { get }
    var tilesY: Int { get }
    var tilesX: Int { get }
    /// Bᵀ (α × α) and Aᵀ (m × α), row-major.
    var inputTransform: [Float] { get }
    var outputTransform: [Float] { get }
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
        cache.withTransformed(
            weight, variant: cacheVariant, count: transformedWeightCount,
            transform: { w, u in
                // The padding between the blocks is never read, but a Swift array holds initialised floats.
                let size = geometry.outChannels * geometry.inChannels, stride = Self.blockStride(size)
                for block in 0..<blocks { (u + block * stride + size).update(repeating: 0, count: stride - size) }
                transformWeights(w, into: u)
            }, body)
    }

    /// `M[ξ] (O × columns) = U[ξ] (O × C) · V[ξ] (C × columns)` for the positions ξ given.
    private func multiply(
        _ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, into m: UnsafeMutablePointer<Float>,
        positions: Range<Int>, columns: Int
    ) {
        let (inputs, outputs) = (geometry.inChannels, geometry.outChannels)
        let uStride = Self.blockStride(outputs * inputs)
        let (vStride, mStride) = (Self.blockStride(inputs * columns), Self.blockStride(outputs * columns))
        for xi in positions {
            BLAS.gemm(
                m: outputs, n: columns, k: inputs, a: u + xi * uStride, lda: inputs, b: v + xi * vStride,
                ldb: columns, c: m + xi * mStride, ldc: columns)
        }
    }

    /// `y = alpha · conv(x, W)` (or `y +=`), without bias; `transformed` is `U` when already known.
    func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, transformed: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, accumulate: Bool, alpha: Float, workspace: Workspace
    ) {
        let (inputs, outputs, batch) = (geometry.inChannels, geometry.outChannels, geometry.batch)
        let chunk = self.chunk
        let columns = chunk * tiles
        let scratch = (blocks * Self.blockStride(inputs * columns), blocks * Self.blockStride(outputs * columns))
        withTransform(of: weight, given: transformed, workspace: workspace) { u in
            if batch >= 2 * Parallel.workerCount * chunk {
                // Enough samples for two chunks per worker: each worker runs whole chunks of its own samples, so
                // that V and M stay in its core's caches between the phases (split by phase, each worker wrote half
                // of what the other then read). Bottom passes, img/s in alternating runs: ResNet18 219–222 against
                // 182–185 split by phase, bigan-cifar (conv5 split) 2,717–3,384 against 2,616–3,257.
                Parallel.forEach(batch) { _, slice in
                    workspace.withScratch(scratch.0, scratch.1) { v, m in
                        for start in stride(from: slice.lowerBound, to: slice.upperBound, by: chunk) {
                            let samples = start..<min(start + chunk, slice.upperBound)
                            let count = samples.count * tiles
                            transformInput(x, samples: samples, channels: 0..<inputs, into: v, workspace: workspace)
                            multiply(u, v, into: m, positions: 0..<blocks, columns: count)
                            transformOutput(
                                m, samples: samples, channels: 0..<outputs, into: y, alpha: alpha,
                                accumulate: accumulate, workspace: workspace)
                        }
                    }
                }
                return
            }
            workspace.withScratch(scratch.0, scratch.1) { v, m in
                for start in stride(from: 0, to: batch, by: chunk) {
                    let samples = start..<min(start + chunk, batch)
                    let count = samples.count * tiles
                    Parallel.forEach(inputs) { _, channels in
                        transformInput(x, samples: samples, channels: channels, into: v, workspace: workspace)
                    }
                    Parallel.forEach(blocks) { _, positions in
                        multiply(u, v, into: m, positions: positions, columns: count)
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

    /// `V[ξ][c][col] = (Bᵀ d B)[ξ]` for the α×α input tile `d` of `channels` at column `col = (n, ty, tx)`: the
    /// tiles of a channel cut out side by side (`gf_tile`, `D[i][j][col]`), then transformed on both sides at once
    /// (`gf_transform_tiles`).
    func transformInput(
        _ x: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into v: UnsafeMutablePointer<Float>,
        workspace: Workspace
    ) {
        let geo = geometry
        let count = samples.count * tiles
        let (vStride, tileStride) = (Self.blockStride(geo.inChannels * count), Self.blockStride(count))
        let planeSize = geo.height * geo.width
        let (m, alpha) = (outputTile, inputTile)
        let paddedPlane = (m * (tilesY - 1) + alpha) * (m * (tilesX - 1) + alpha)
        workspace.withScratch(blocks * tileStride, samples.count * paddedPlane) { d, padded in
            inputTransform.withUnsafeBufferPointer { bt in
                for c in channels {
                    gf_tile(
                        x + (samples.lowerBound * geo.inChannels + c) * planeSize, geo.inChannels * planeSize,
                        samples.count, geo.height, geo.width, geo.padY, geo.padX, tilesY, tilesX, m, alpha, d,
                        tileStride, padded)
                    gf_transform_tiles(d, tileStride, count, alpha, alpha, bt.baseAddress!, v + c * count, vStride)
                }
            }
        }
    }

    /// `y[n, o, tile] (+)= scale · Aᵀ m A` with `m[ξ] = M[ξ][o][col]`, clipped at the edges: transformed
    /// (`gf_transform_tiles`) into m×m tiles side by side, then written into the planes (`gf_untile`).
    func transformOutput(
        _ product: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>,
        into y: UnsafeMutablePointer<Float>, alpha scale: Float, accumulate: Bool, workspace: Workspace
    ) {
        let geo = geometry
        let count = samples.count * tiles
        let (mStride, tileStride) = (Self.blockStride(geo.outChannels * count), Self.blockStride(count))
        let planeSize = geo.outHeight * geo.outWidth
        let (m, alpha) = (outputTile, inputTile)
        workspace.withScratch(m * m * tileStride) { tilesOut in
            outputTransform.withUnsafeBufferPointer { at in
                for o in channels {
                    gf_transform_tiles(
                        product + o * count, mStride, count, alpha, m, at.baseAddress!, tilesOut, tileStride)
                    gf_untile(
                        tilesOut, tileStride, samples.count, tilesY, tilesX, m,
                        y + (samples.lowerBound * geo.outChannels + o) * planeSize, geo.outChannels * planeSize,
                        geo.outHeight, geo.outWidth, scale, accumulate ? 1 : 0)
                }
            }
        }
    }
}
