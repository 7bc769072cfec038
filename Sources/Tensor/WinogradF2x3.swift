/// A 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for
/// Convolutional Neural Networks", CVPR 2016): each 2×2 block of outputs costs 16 multiplies per input channel
/// instead of 36, so the GEMMs do 2.25× less work than im2col's.
///
/// With `g` a 3×3 kernel, `d` a 4×4 input tile (stride 2 between tiles) and
/// ```
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]
/// Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A
/// ```
/// The sum over channels is 16 GEMMs, one per position ξ of the 4×4 transformed tile:
/// `M[ξ] (O × tiles) = U[ξ] (O × C) · V[ξ] (C × tiles)`. The backward pass is the same algorithm transposed: with
/// `E` a 2×2 tile of the output gradient (zero beyond the output),
/// ```
/// Ṁ = A E Aᵀ,   U̇[ξ] = Σ_tiles Ṁ[ξ] · V[ξ]ᵀ,   V̇[ξ] = U[ξ]ᵀ · Ṁ[ξ],   dW = Gᵀ U̇ G,   dx = Σ_tiles B V̇ Bᵀ
/// ```
/// so both gradients cost 16 GEMMs too. Used for every product of the convolutions it fits
/// (`ConvolutionGeometry.usesWinograd`).
struct WinogradF2x3: WinogradAlgorithm {
    let geometry: ConvolutionGeometry
    let tilesY: Int, tilesX: Int

    init(_ geometry: ConvolutionGeometry) {
        self.geometry = geometry
        tilesY = (geometry.outHeight + 1) / 2
        tilesX = (geometry.outWidth + 1) / 2
    }

    /// Tiles per sample.
    var tiles: Int { tilesY * tilesX }

    var blocks: Int { 16 }
    var outputTile: Int { 2 }
    var inputTile: Int { 4 }
    var inputTransform: [Float] { Self.bt }
    var outputTransform: [Float] { Self.at }
    static let bt: [Float] = [1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1]
    static let at: [Float] = [1, 1, 1, 0, 0, 1, -1, -1]
    /// The forward pass's: at least 128 tile columns. ResNet18's bottom pass (layer1–4.0, batch 32), img/s in
    /// alternating runs: 128 columns 266–267, 64: 268, 256: 259–261, 512: 257–260.
    var chunk: Int { chunk(columns: 128) }
    /// The backward pass's: at least 512 tile columns. Each phase splits across the workers along its own axis
    /// (channels, the GEMMs), so small images (ResNet's 4×4 layer4: 4 tiles per sample) still give every worker
    /// wide GEMMs.
    var backwardChunk: Int { chunk(columns: 512) }
    var cacheVariant: ConvolutionWeightCache.Variant { .f2x3 }

    /// Gradients of `⟨gradient, conv(x, W)⟩`: `dx` (overwritten) and `dW` (overwritten, or accumulated), the latter
    /// times `weightScale`; either may be nil. `transformed` is `U` when already known (needed for `dx` only).
    func backward(
        gradient: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        transformed: UnsafePointer<Float>?, dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
        accumulate: Bool, weightScale: Float, workspace: Workspace
    ) {
        let g = geometry
        let (inputs, outputs) = (g.inChannels, g.outChannels)
        guard g.batch > 0 else {
            if let dWeight, !accumulate { dWeight.update(repeating: 0, count: outputs * inputs * 9) }
            return
        }
        let chunk = backwardChunk
        let columns = chunk * tiles
        let uStride = Self.blockStride(outputs * inputs)
        func run(_ u: UnsafePointer<Float>?) {
            let duCount = dWeight == nil ? 0 : 16 * uStride
            let (vCount, mCount) = (16 * Self.blockStride(inputs * columns), 16 * Self.blockStride(outputs * columns))
            workspace.withScratch(duCount) { du in
                workspace.withScratch(vCount, mCount) { v, dm in
                    for start in stride(from: 0, to: g.batch, by: chunk) {
                        let samples = start..<min(start + chunk, g.batch)
                        let count = samples.count * tiles
                        let (vStride, mStride) = (Self.blockStride(inputs * count), Self.blockStride(outputs * count))
                        Parallel.forEach(outputs) { _, channels in
                            transformGradient(gradient, samples: samples, channels: channels, into: dm)
                        }
                        if dWeight != nil {
                            Parallel.forEach(inputs) { _, channels in
                                transformInput(x, samples: samples, channels: channels, into: v, workspace: workspace)
                            }
                            // U̇[ξ] (O × C) (+)= Ṁ[ξ] (O × cols) · V[ξ]ᵀ
                            Parallel.forEach(16) { _, positions in
                                for xi in positions {
                                    BLAS.gemm(
                                        transposeB: true, m: outputs, n: inputs, k: count, a: dm + xi * mStride,
                                        lda: count, b: v + xi * vStride, ldb: count, beta: start == 0 ? 0 : 1,
                                        c: du + xi * uStride, ldc: inputs)
                                }
                            }
                        }
                        if let dx, let u {
                            // V̇[ξ] (C × cols) = U[ξ]ᵀ · Ṁ[ξ], into V's scratch (V is used up).
                            Parallel.forEach(16) { _, positions in
                                for xi in positions {
                                    BLAS.gemm(
                                        transposeA: true, m: inputs, n: count, k: outputs, a: u + xi * uStride,
                                        lda: inputs, b: dm + xi * mStride, ldb: count, c: v + xi * vStride, ldc: count)
                                }
                            }
                            Parallel.forEach(inputs) { _, channels in
                                scatterInputGradient(
                                    v, samples: samples, channels: channels, into: dx, workspace: workspace)
                            }
                        }
                    }
                    if let dWeight {
                        Parallel.forEach(outputs, minimumCount: outputs * inputs >= 4096 ? 2 : .max) { _, channels in
                            weightGradient(
                                du, channels: channels, into: dWeight, scale: weightScale, accumulate: accumulate)
                        }
                    }
                }
            }
        }
        if dx != nil {
            withTransform(of: weight, given: transformed, workspace: workspace) { u in run(u) }
        } else {
            run(nil)
        }
    }

    /// `Ṁ[ξ][o][col] = (A E Aᵀ)[ξ]` for the 2×2 tile `E` of the output gradient of channel `o` at column
    /// `col = (n, ty, tx)`, zero beyond the output's edges: the adjoint of `transformOutput`.
    func transformGradient(
        _ gradient: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>,
        into dm: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        let count = samples.count * tiles
        let stride = Self.blockStride(g.outChannels * count)
        for o in channels {
            for n in samples {
                let plane = gradient + (n * g.outChannels + o) * outHeight * outWidth
                let base = dm + o * count + (n - samples.lowerBound) * tiles
                for ty in 0..<tilesY {
                    for tx in 0..<tilesX {
                        @inline(__always) func e(_ i: Int, _ j: Int) -> Float {
                            let (y, x) = (2 * ty + i, 2 * tx + j)
                            return y < outHeight && x < outWidth ? plane[y * outWidth + x] : 0
                        }
                        // Rows r = A E (lanes: the four rows), columns Ṁ = r Aᵀ.
                        let left = SIMD4(e(0, 0), e(0, 0) + e(1, 0), e(0, 0) - e(1, 0), -e(1, 0))
                        let right = SIMD4(e(0, 1), e(0, 1) + e(1, 1), e(0, 1) - e(1, 1), -e(1, 1))
                        let target = base + ty * tilesX + tx
                        @inline(__always) func store(_ column: SIMD4<Float>, _ j: Int) {
                            for i in 0..<4 { target[(4 * i + j) * stride] = column[i] }
                        }
                        store(left, 0)
                        store(left + right, 1)
                        store(left - right, 2)
                        store(-right, 3)
                    }
                }
            }
        }
    }

    /// `dx[n, c] = Σ_tiles B V̇[·][c][col] Bᵀ`, each 4×4 tile added at its place in a zero-bordered scratch plane, then
    /// cropped to the input: the adjoint of `transformInput` (the samples' planes of `channels` are overwritten).
    func scatterInputGradient(
        _ dv: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into dx: UnsafeMutablePointer<Float>,
        workspace: Workspace
    ) {
        let g = geometry
        let (height, width) = (g.height, g.width)
        let (paddedHeight, paddedWidth) = (2 * tilesY + 2, 2 * tilesX + 2)
        let count = samples.count * tiles
        let stride = Self.blockStride(g.inChannels * count)
        workspace.withScratch(paddedHeight * paddedWidth) { padded in
            for c in channels {
                for n in samples {
                    padded.update(repeating: 0, count: paddedHeight * paddedWidth)
                    let base = dv + c * count + (n - samples.lowerBound) * tiles
                    for ty in 0..<tilesY {
                        for tx in 0..<tilesX {
                            let source = base + ty * tilesX + tx
                            @inline(__always) func row(_ r: Int) -> SIMD4<Float> {
                                SIMD4(
                                    source[(4 * r) * stride], source[(4 * r + 1) * stride],
                                    source[(4 * r + 2) * stride], source[(4 * r + 3) * stride])
                            }
                            let (v0, v1, v2, v3) = (row(0), row(1), row(2), row(3))
                            // Rows s = B V̇; columns d = s Bᵀ, added into the plane.
                            @inline(__always) func add(_ s: SIMD4<Float>, row i: Int) {
                                let d = SIMD4(s[0], s[1] - s[2] + s[3], s[1] + s[2] - s[0], -s[3])
                                let target = UnsafeMutableRawPointer(padded + (2 * ty + i) * paddedWidth + 2 * tx)
                                target.storeBytes(
                                    of: target.loadUnaligned(as: SIMD4<Float>.self) + d, as: SIMD4<Float>.self)
                            }
                            add(v0, row: 0)
                            add(v1 - v2 + v3, row: 1)
                            add(v1 + v2 - v0, row: 2)
                            add(-v3, row: 3)
                        }
                    }
                    // Input rows and columns beyond the tiles' reach (a padding of 0 with an odd output) get zero.
                    let plane = dx + (n * g.inChannels + c) * height * width
                    let columns = max(0, min(width, paddedWidth - g.padX))
                    for y in 0..<height {
                        let line = plane + y * width
                        if y + g.padY < paddedHeight {
                            line.update(from: padded + (y + g.padY) * paddedWidth + g.padX, count: columns)
                            (line + columns).update(repeating: 0, count: width - columns)
                        } else {
                            line.update(repeating: 0, count: width)
                        }
                    }
                }
            }
        }
    }

    /// `dW[o, c] (+)= scale · Gᵀ U̇[·][o][c] G`: the adjoint of `transformWeights`, four input channels at a time
    /// (one per SIMD lane).
    func weightGradient(
        _ du: UnsafePointer<Float>, channels: Range<Int>, into dWeight: UnsafeMutablePointer<Float>, scale: Float,
        accumulate: Bool
    ) {
        let inputs = geometry.inChannels
        let stride = Self.blockStride(geometry.outChannels * inputs)
        for o in channels {
            for c in Swift.stride(from: 0, to: inputs, by: 4) {
                let source = du + o * inputs + c
                // Lanes past the last channel read the next row or the block's padding, and are not stored.
                @inline(__always) func u(_ xi: Int) -> SIMD4<Float> {
                    UnsafeRawPointer(source + xi * stride).loadUnaligned(as: SIMD4<Float>.self)
                }
                // Rows t = Gᵀ U̇ (3×4), one column k at a time; then dW = t G (3×3).
                @inline(__always) func rows(_ k: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                    let (u0, u1, u2, u3) = (u(k), u(4 + k), u(8 + k), u(12 + k))
                    return (u0 + 0.5 * (u1 + u2), 0.5 * (u1 - u2), 0.5 * (u1 + u2) + u3)
                }
                let (t0, t1, t2, t3) = (rows(0), rows(1), rows(2), rows(3))
                let lanes = min(4, inputs - c)
                @inline(__always) func store(
                    _ x0: SIMD4<Float>, _ x1: SIMD4<Float>, _ x2: SIMD4<Float>,
                    _ x3: SIMD4<Float>, row i: Int
                ) {
                    let (w0, w1, w2) = (x0 + 0.5 * (x1 + x2), 0.5 * (x1 - x2), 0.5 * (x1 + x2) + x3)
                    for q in 0..<lanes {
                        let target = dWeight + (o * inputs + c + q) * 9 + 3 * i
                        target[0] = scale * w0[q] + (accumulate ? target[0] : 0)
                        target[1] = scale * w1[q] + (accumulate ? target[1] : 0)
                        target[2] = scale * w2[q] + (accumulate ? target[2] : 0)
                    }
                }
                store(t0.0, t1.0, t2.0, t3.0, row: 0)
                store(t0.1, t1.1, t2.1, t3.1, row: 1)
                store(t0.2, t1.2, t2.2, t3.2, row: 2)
            }
        }
    }

    /// `U[ξ][o][c] = (G g_oc Gᵀ)[ξ]`, split across the workers by output channel, four input channels at a time
    /// (one per SIMD lane: the 16 stores of a group are SIMD stores).
    func transformWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (inputs, outputs) = (geometry.inChannels, geometry.outChannels)
        let stride = Self.blockStride(outputs * inputs)
        Parallel.forEach(outputs, minimumCount: outputs * inputs >= 4096 ? 2 : .max) { _, slice in
            for o in slice {
                for c in Swift.stride(from: 0, to: inputs, by: 4) {
                    let lanes = min(4, inputs - c)
                    let kernels = weight + (o * inputs + c) * 9
                    // g(a, b): tap (a, b) of the four kernels (zero in lanes past the last channel).
                    @inline(__always) func g(_ a: Int, _ b: Int) -> SIMD4<Float> {
                        var value = SIMD4<Float>()
                        for q in 0..<lanes { value[q] = kernels[q * 9 + 3 * a + b] }
                        return value
                    }
                    let target = u + o * inputs + c
                    @inline(__always) func put(_ value: SIMD4<Float>, _ xi: Int) {
                        if lanes == 4 {
                            UnsafeMutableRawPointer(target + xi * stride).storeBytes(of: value, as: SIMD4<Float>.self)
                        } else {
                            for q in 0..<lanes { target[xi * stride + q] = value[q] }
                        }
                    }
                    // Rows: t = G g (4×3), one column b at a time; columns: u = t Gᵀ (4×4).
                    @inline(__always) func column(_ b: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)
                    {
                        let (g0, g1, g2) = (g(0, b), g(1, b), g(2, b))
                        return (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
                    }
                    let (c0, c1, c2) = (column(0), column(1), column(2))
                    @inline(__always) func store(_ t0: SIMD4<Float>, _ t1: SIMD4<Float>, _ t2: SIMD4<Float>, row r: Int)
                    {
                        put(t0, 4 * r)
                        put(0.5 * (t0 + t1 + t2), 4 * r + 1)
                        put(0.5 * (t0 - t1 + t2), 4 * r + 2)
                        put(t2, 4 * r + 3)
                    }
                    store(c0.0, c1.0, c2.0, row: 0)
                    store(c0.1, c1.1, c2.1, row: 1)
                    store(c0.2, c1.2, c2.2, row: 2)
                    store(c0.3, c1.3, c2.3, row: 3)
                }
            }
        }
    }
}
