/// Winograd's minimal filtering F(m×m, r×r) for stride-1 convolutions with any small kernel, its transforms built by
/// the Cook–Toom construction (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016;
/// Barabasz et al., "Error analysis and improving the accuracy of Winograd convolution", 2020). With α = m + r − 1,
/// the interpolation points p = 0, 1, −1, 2, −2, ½, −½ (the first α − 1 of them) and ∞:
/// ```
/// Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A          d: α×α input tile, Y: m×m output tile
/// Aᵀ[i][j] = p_jⁱ,   G[j][k] = p_jᵏ / Π_{l≠j} (p_j − p_l),   Bᵀ[j] = the coefficients of Π_{l≠j} (x − p_l)
/// ```
/// where the point at infinity contributes Aᵀ's and G's last unit column and row and, as Bᵀ's last row, the
/// coefficients of Π_l (x − p_l). Each m×m block of outputs costs α² multiplies per input channel instead of m²r²
/// (bigan-cifar's 4×4 conv3 runs m = 5: 64 instead of 400). Forward pass only; gradients use im2col.
///
/// Larger tiles round more. Summed over 64 channels in Float (inputs uniform in [0, 1], weights N(0, 0.05²)), the
/// largest error relative to the largest output was about 5·10⁻⁷ for F(2×2, 4×4) and 3–7·10⁻⁶ for F(5×5, 4×4)
/// (numpy, 20 trials each); the tests hold every (m, r) used to 2·10⁻⁵ or 10⁻⁴ of the direct loop.
///
/// The weight transform is one GEMM with G ⊗ G. The input and output transforms run a channel at a time over all
/// tiles of a chunk, as SIMD linear combinations of rows: `Bᵀ d B` first gathers `D[i][j][tile]` (the tile element
/// (i, j) of every tile, contiguous), then combines rows with the coefficients of Bᵀ, once along i and once along j;
/// the output transform does the same with Aᵀ.
struct CookToomWinograd: WinogradAlgorithm {
    let geometry: ConvolutionGeometry
    /// Output tile m, kernel r, input tile α = m + r − 1.
    let m: Int, r: Int, alpha: Int
    let tilesY: Int, tilesX: Int
    /// Aᵀ (m × α), G (α × r) and Bᵀ (α × α), row-major.
    let at: [Float], g: [Float], bt: [Float]

    /// The points, in the order taken; enough for α ≤ 8.
    static let points: [Double] = [0, 1, -1, 2, -2, 0.5, -0.5]

    init(_ geometry: ConvolutionGeometry, outputTile m: Int) {
        precondition(geometry.kernelHeight == geometry.kernelWidth && geometry.strideY == 1 && geometry.strideX == 1)
        self.geometry = geometry
        self.m = m
        r = geometry.kernelHeight
        alpha = m + r - 1
        precondition(alpha <= Self.points.count + 1, "F(\(m), \(r)) needs more interpolation points")
        tilesY = (geometry.outHeight + m - 1) / m
        tilesX = (geometry.outWidth + m - 1) / m
        (at, g, bt) = Self.matrices(m: m, r: r)
    }

    /// Aᵀ, G and Bᵀ for F(m, r) (computed in Double).
    static func matrices(m: Int, r: Int) -> (at: [Float], g: [Float], bt: [Float]) {
        let alpha = m + r - 1
        let p = Array(points.prefix(alpha - 1))
        /// The coefficients (constant first) of Π (x − p_l) over `roots`.
        func polynomial(_ roots: [Double]) -> [Double] {
            var c: [Double] = [1]
            for root in roots {
                var next = [Double](repeating: 0, count: c.count + 1)
                for (k, value) in c.enumerated() {
                    next[k + 1] += value
                    next[k] -= root * value
                }
                c = next
            }
            return c
        }
        var at = [Double](repeating: 0, count: m * alpha)
        var g = [Double](repeating: 0, count: alpha * r)
        var bt = [Double](repeating: 0, count: alpha * alpha)
        for (j, pj) in p.enumerated() {
            var others = p
            others.remove(at: j)
            let norm = others.reduce(1) { $0 * (pj - $1) }
            for i in 0..<m { at[i * alpha + j] = pow(pj, i) }
            for k in 0..<r { g[j * r + k] = pow(pj, k) / norm }
            for (k, c) in polynomial(others).enumerated() { bt[j * alpha + k] = c }
        }
        at[(m - 1) * alpha + alpha - 1] = 1
        g[(alpha - 1) * r + r - 1] = 1
        for (k, c) in polynomial(p).enumerated() { bt[(alpha - 1) * alpha + k] = c }
        return (at.map(Float.init), g.map(Float.init), bt.map(Float.init))
    }

    /// xⁿ for small n (exact for the points used).
    private static func pow(_ x: Double, _ n: Int) -> Double { (0..<n).reduce(1) { a, _ in a * x } }

    var tiles: Int { tilesY * tilesX }
    var blocks: Int { alpha * alpha }
    var cacheVariant: ConvolutionWeightCache.Variant { .cookToom(outputTile: m) }

    /// `U[ξ][o][c] = (G g_oc Gᵀ)[ξ]` for all (o, c) at once: `U (α² × O·C) = (G ⊗ G) (α² × r²) · Wᵀ`.
    func transformWeights(_ weight: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        var kronecker = [Float](repeating: 0, count: blocks * r * r)
        for k in 0..<alpha {
            for l in 0..<alpha {
                for a in 0..<r {
                    for b in 0..<r { kronecker[(k * alpha + l) * r * r + a * r + b] = g[k * r + a] * g[l * r + b] }
                }
            }
        }
        let pairs = geometry.outChannels * geometry.inChannels
        kronecker.withUnsafeBufferPointer { kp in
            BLAS.gemm(
                transposeB: true, m: blocks, n: pairs, k: r * r, a: kp.baseAddress!, lda: r * r, b: weight,
                ldb: r * r, c: u, ldc: Self.blockStride(pairs))
        }
    }

    /// `V[ξ][c][col] = (Bᵀ d B)[ξ]` for the α×α input tile `d` of channel `c` at column `col = (n, ty, tx)`.
    func transformInput(
        _ x: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>, into v: UnsafeMutablePointer<Float>,
        workspace: Workspace
    ) {
        let geo = geometry
        let (height, width) = (geo.height, geo.width)
        let (paddedHeight, paddedWidth) = (m * tilesY + r - 1, m * tilesX + r - 1)
        let (rows, columns) = (min(height, paddedHeight - geo.padY), min(width, paddedWidth - geo.padX))
        let count = samples.count * tiles
        let vStride = Self.blockStride(geo.inChannels * count)
        let planeSize = paddedHeight * paddedWidth
        workspace.withScratch(planeSize + 2 * blocks * count) { scratch in
            let (padded, d, t) = (scratch, scratch + planeSize, scratch + planeSize + blocks * count)
            bt.withUnsafeBufferPointer { btp in
                let bt = btp.baseAddress!
                for c in channels {
                    // D[i][j][col]: element (i, j) of every tile, from a zero-bordered copy of each plane.
                    for n in samples {
                        let plane = x + (n * geo.inChannels + c) * height * width
                        padded.update(repeating: 0, count: planeSize)
                        for y in 0..<rows {
                            (padded + (y + geo.padY) * paddedWidth + geo.padX).copyShortLine(
                                from: plane + y * width, count: columns)
                        }
                        let column = (n - samples.lowerBound) * tiles
                        let end = padded + planeSize
                        for ty in 0..<tilesY {
                            for i in 0..<alpha {
                                let line = padded + (m * ty + i) * paddedWidth
                                let target = d + i * alpha * count + column + ty * tilesX
                                for tx in 0..<tilesX {
                                    // The tile's row i: one load, its α elements to the α rows D[i][j].
                                    let source = line + m * tx
                                    if source + 8 <= end {
                                        let row = UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self)
                                        for j in 0..<alpha { target[j * count + tx] = row[j] }
                                    } else {
                                        for j in 0..<alpha { target[j * count + tx] = source[j] }
                                    }
                                }
                            }
                        }
                    }
                    // T[k][j] = Σ_i Bᵀ[k][i] D[i][j]; V[k][l] = Σ_j Bᵀ[l][j] T[k][j].
                    for k in 0..<alpha {
                        for j in 0..<alpha {
                            Self.combine(
                                into: t + (k * alpha + j) * count, count: count, terms: alpha,
                                coefficients: bt + k * alpha, coefficientStride: 1,
                                sources: d + j * count, sourceStride: alpha * count)
                        }
                    }
                    for k in 0..<alpha {
                        for l in 0..<alpha {
                            Self.combine(
                                into: v + (k * alpha + l) * vStride + c * count, count: count, terms: alpha,
                                coefficients: bt + l * alpha, coefficientStride: 1,
                                sources: t + k * alpha * count, sourceStride: count)
                        }
                    }
                }
            }
        }
    }

    /// `y[n, o, tile] (+)= scale · Aᵀ m A` with `m[ξ] = M[ξ][o][col]`, clipped at the edges.
    func transformOutput(
        _ product: UnsafePointer<Float>, samples: Range<Int>, channels: Range<Int>,
        into y: UnsafeMutablePointer<Float>, alpha scale: Float, accumulate: Bool, workspace: Workspace
    ) {
        let geo = geometry
        let (outHeight, outWidth) = (geo.outHeight, geo.outWidth)
        let count = samples.count * tiles
        let mStride = Self.blockStride(geo.outChannels * count)
        // Per output column j of a tile: the tiles whose column j lies inside the output, m·tx + j < Wo.
        let tilesInside = (0..<m).map { j in j < outWidth ? min(tilesX, (outWidth - 1 - j) / m + 1) : 0 }
        workspace.withScratch(m * alpha * count + m * m * count) { scratch in
            let (rowsCombined, tilesOut) = (scratch, scratch + m * alpha * count)
            at.withUnsafeBufferPointer { atp in
                let at = atp.baseAddress!
                for o in channels {
                    // R[i][l] = Σ_k Aᵀ[i][k] M[k][l]; Y[i][j] = Σ_l Aᵀ[j][l] R[i][l].
                    for i in 0..<m {
                        for l in 0..<alpha {
                            Self.combine(
                                into: rowsCombined + (i * alpha + l) * count, count: count, terms: alpha,
                                coefficients: at + i * alpha, coefficientStride: 1,
                                sources: product + l * mStride + o * count, sourceStride: alpha * mStride)
                        }
                        for j in 0..<m {
                            Self.combine(
                                into: tilesOut + (i * m + j) * count, count: count, terms: alpha,
                                coefficients: at + j * alpha, coefficientStride: 1,
                                sources: rowsCombined + i * alpha * count, sourceStride: count)
                        }
                    }
                    for n in samples {
                        let plane = y + (n * geo.outChannels + o) * outHeight * outWidth
                        let column = (n - samples.lowerBound) * tiles
                        for ty in 0..<tilesY {
                            for i in 0..<m where m * ty + i < outHeight {
                                let line = plane + (m * ty + i) * outWidth
                                for j in 0..<m {
                                    let source = tilesOut + (i * m + j) * count + column + ty * tilesX
                                    let inside = tilesInside[j]
                                    if accumulate {
                                        for tx in 0..<inside { line[m &* tx &+ j] += scale * source[tx] }
                                    } else {
                                        for tx in 0..<inside { line[m &* tx &+ j] = scale * source[tx] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `target[t] = Σ_q coefficients[q] · sources[q][t]` for `t < count` (terms with a zero coefficient skipped),
    /// summed in registers over SIMD blocks along t: one store per block, not one per term.
    @inline(__always)
    static func combine(
        into target: UnsafeMutablePointer<Float>, count: Int, terms: Int, coefficients: UnsafePointer<Float>,
        coefficientStride: Int, sources: UnsafePointer<Float>, sourceStride: Int
    ) {
        var t = 0
        while t &+ 8 <= count {
            var sum = SIMD8<Float>()
            for q in 0..<terms {
                let a = coefficients[q &* coefficientStride]
                if a == 0 { continue }
                sum += a * UnsafeRawPointer(sources + (q &* sourceStride &+ t)).loadUnaligned(as: SIMD8<Float>.self)
            }
            UnsafeMutableRawPointer(target + t).storeBytes(of: sum, as: SIMD8<Float>.self)
            t &+= 8
        }
        while t < count {
            var sum: Float = 0
            for q in 0..<terms { sum += coefficients[q &* coefficientStride] * sources[q &* sourceStride &+ t] }
            target[t] = sum
            t &+= 1
        }
    }
}
