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
/// The weight transform is one GEMM with G ⊗ G; the input and output transforms are `WinogradAlgorithm`'s.
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
    var outputTile: Int { m }
    var inputTile: Int { alpha }
    var inputTransform: [Float] { bt }
    var outputTransform: [Float] { at }
    var cacheVariant: ConvolutionWeightCache.Variant { .cookToom(outputTile: m) }
    /// About 4 MB of `V` and `M` (at least 64 tile columns): with α² = 64 GEMMs per chunk they outgrow the caches
    /// fast. Measured on bigan-cifar's conv3 (F(5×5, 4×4), 48 KB per column, batch 128, forward GFLOP/s in one
    /// process): 16 columns 293, 32: 366–375, 48: 408, 64: 412–438, 96: 434, 128: 414, 256: 344, 512: 290–333.
    var chunk: Int { chunk(columns: max(64, (1 << 20) / (blocks * (geometry.inChannels + geometry.outChannels)))) }

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
}
