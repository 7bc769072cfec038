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
/// `M[ξ] (O × tiles) = U[ξ] (O × C) · V[ξ] (C × tiles)`. Used for the forward pass (and so for tangents) of the
/// convolutions it fits (`ConvolutionGeometry.usesWinograd`); gradients use im2col.
struct WinogradF2x3 {
    let geometry: ConvolutionGeometry
    let tilesY: Int, tilesX: Int

    init(_ geometry: ConvolutionGeometry) {
        self.geometry = geometry
        tilesY = (geometry.outHeight + 1) / 2
        tilesX = (geometry.outWidth + 1) / 2
    }

    /// Tiles per sample.
    var tiles: Int { tilesY * tilesX }

    /// Floats between the 16 blocks ξ of U, V and M: the block size plus 16, so that the 16 streams a transform
    /// writes (or reads) at once do not sit a power of two apart and evict each other from the caches (at
    /// 512×512 channels the unpadded weight transform took a third of a ResNet18 layer4 step).
    static func blockStride(_ size: Int) -> Int { size + 16 }

    /// `y = alpha · conv(x, W)` (or `y +=`), without bias.
    func forward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool,
        alpha: Float, workspace: Workspace
    ) {
        let g = geometry
        let (inputs, outputs) = (g.inChannels, g.outChannels)
        // Chunks of whole samples with at least 512 tile columns. Each phase splits across the workers along its
        // own axis (input channels, the 16 GEMMs, output channels), so small images (ResNet's 4×4 layer4: 4 tiles
        // per sample) still give every worker wide GEMMs.
        let chunk = max(1, min(g.batch, (512 + tiles - 1) / tiles))
        let columns = chunk * tiles
        let uStride = Self.blockStride(outputs * inputs)
        workspace.withScratch(16 * uStride) { u in
            transformWeights(weight, into: u)
            workspace.withScratch(16 * Self.blockStride(inputs * columns), 16 * Self.blockStride(outputs * columns)) {
                v, m in
                for start in stride(from: 0, to: g.batch, by: chunk) {
                    let samples = start..<min(start + chunk, g.batch)
                    let count = samples.count * tiles
                    Parallel.forEach(inputs) { _, channels in
                        transformInput(x, samples: samples, channels: channels, into: v)
                    }
                    Parallel.forEach(16) { _, positions in
                        for xi in positions {
                            BLAS.gemm(
                                m: outputs, n: count, k: inputs, a: u + xi * uStride, lda: inputs,
                                b: v + xi * Self.blockStride(inputs * count), ldb: count,
                                c: m + xi * Self.blockStride(outputs * count), ldc: count)
                        }
                    }
                    Parallel.forEach(outputs) { _, channels in
                        transformOutput(
                            m, samples: samples, channels: channels, into: y, alpha: alpha, accumulate: accumulate)
                    }
                }
            }
        }
    }

    /// `U[ξ][o][c] = (G g_oc Gᵀ)[ξ]`, split across the workers by output channel.
    func transformWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        let (inputs, outputs) = (geometry.inChannels, geometry.outChannels)
        let stride = Self.blockStride(outputs * inputs)
        Parallel.forEach(outputs, minimumCount: outputs * inputs >= 4096 ? 2 : .max) { _, slice in
            for o in slice {
                for c in 0..<inputs {
                    let k = weight + (o * inputs + c) * 9
                    let g0 = SIMD4(k[0], k[1], k[2], 0), g1 = SIMD4(k[3], k[4], k[5], 0)
                    let g2 = SIMD4(k[6], k[7], k[8], 0)
                    // Rows: t = G g (4×3); columns: u = t Gᵀ (4×4).
                    let target = u + o * inputs + c
                    @inline(__always) func store(_ t: SIMD4<Float>, row r: Int) {
                        target[(4 * r) * stride] = t[0]
                        target[(4 * r + 1) * stride] = 0.5 * (t[0] + t[1] + t[2])
                        target[(4 * r + 2) * stride] = 0.5 * (t[0] - t[1] + t[2])
                        target[(4 * r + 3) * stride] = t[2]
                    }
                    store(g0, row: 0)
                    store(0.5 * (g0 + g1 + g2), row: 1)
                    store(0.5 * (g0 - g1 + g2), row: 2)
                    store(g2, row: 3)
                }
            }
        }
    }

    /// `V[ξ][c][col] = (Bᵀ d B)[ξ]` for the 4×4 input tile `d` of channel `c` at column `col = (n, ty, tx)`.
    func transformInput(
        _ x: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into v: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let (height, width) = (g.height, g.width)
        let count = samples.count * tiles
        let stride = Self.blockStride(g.inChannels * count)
        for c in channels {
            for n in samples {
                let plane = x + (n * g.inChannels + c) * height * width
                let base = v + c * count + (n - samples.lowerBound) * tiles
                for ty in 0..<tilesY {
                    let top = 2 * ty - g.padY
                    for tx in 0..<tilesX {
                        let left = 2 * tx - g.padX
                        // d: the 4×4 tile, zero outside the image.
                        var d0 = SIMD4<Float>(), d1 = SIMD4<Float>(), d2 = SIMD4<Float>(), d3 = SIMD4<Float>()
                        if top >= 0, left >= 0, top + 4 <= height, left + 4 <= width {
                            let p = plane + top * width + left
                            d0 = SIMD4(p[0], p[1], p[2], p[3])
                            d1 = SIMD4(p[width], p[width + 1], p[width + 2], p[width + 3])
                            let q = p + 2 * width
                            d2 = SIMD4(q[0], q[1], q[2], q[3])
                            d3 = SIMD4(q[width], q[width + 1], q[width + 2], q[width + 3])
                        } else {
                            func load(_ row: Int) -> SIMD4<Float> {
                                var r = SIMD4<Float>()
                                let iy = top + row
                                guard iy >= 0, iy < height else { return r }
                                for j in 0..<4 where left + j >= 0 && left + j < width {
                                    r[j] = plane[iy * width + left + j]
                                }
                                return r
                            }
                            (d0, d1, d2, d3) = (load(0), load(1), load(2), load(3))
                        }
                        // Rows: s = Bᵀ d; columns: v = s B.
                        let target = base + ty * tilesX + tx
                        @inline(__always) func store(_ s: SIMD4<Float>, row r: Int) {
                            target[(4 * r) * stride] = s[0] - s[2]
                            target[(4 * r + 1) * stride] = s[1] + s[2]
                            target[(4 * r + 2) * stride] = s[2] - s[1]
                            target[(4 * r + 3) * stride] = s[1] - s[3]
                        }
                        store(d0 - d2, row: 0)
                        store(d1 + d2, row: 1)
                        store(d2 - d1, row: 2)
                        store(d1 - d3, row: 3)
                    }
                }
            }
        }
    }

    /// `y[n, o, 2ty…2ty+1, 2tx…2tx+1] (+)= alpha · Aᵀ m A` with `m[ξ] = M[ξ][o][col]`, clipped at the edges.
    func transformOutput(
        _ m: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into y: UnsafeMutablePointer<Float>,
        alpha: Float, accumulate: Bool
    ) {
        let g = geometry
        let (outHeight, outWidth) = (g.outHeight, g.outWidth)
        let count = samples.count * tiles
        let stride = Self.blockStride(g.outChannels * count)
        for o in channels {
            for n in samples {
                let plane = y + (n * g.outChannels + o) * outHeight * outWidth
                let base = m + o * count + (n - samples.lowerBound) * tiles
                for ty in 0..<tilesY {
                    for tx in 0..<tilesX {
                        let source = base + ty * tilesX + tx
                        func row(_ r: Int) -> SIMD4<Float> {
                            SIMD4(
                                source[(4 * r) * stride], source[(4 * r + 1) * stride],
                                source[(4 * r + 2) * stride], source[(4 * r + 3) * stride])
                        }
                        let (m0, m1, m2, m3) = (row(0), row(1), row(2), row(3))
                        // Rows: r = Aᵀ m; columns: out = r A.
                        let r0 = alpha * (m0 + m1 + m2), r1 = alpha * (m1 - m2 - m3)
                        let out = SIMD4(r0[0] + r0[1] + r0[2], r0[1] - r0[2] - r0[3],
                                        r1[0] + r1[1] + r1[2], r1[1] - r1[2] - r1[3])
                        for i in 0..<2 where 2 * ty + i < outHeight {
                            for j in 0..<2 where 2 * tx + j < outWidth {
                                let index = (2 * ty + i) * outWidth + 2 * tx + j
                                plane[index] = accumulate ? plane[index] + out[2 * i + j] : out[2 * i + j]
                            }
                        }
                    }
                }
            }
        }
    }
}
