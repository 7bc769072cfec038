import Layers
import Tensor

/// Centred kernel–target alignment (Cortes, Mohri, Rostamizadeh 2012) of the kernel of feature rows Φ [n, D] with
/// the labels:
/// ```
/// A = ⟨K_c, Y_c⟩_F / (‖K_c‖_F ‖Y_c‖_F),     K = Φ Φᵀ,  Y = one-hot (or 0/1) labels Λ Λᵀ,  X_c = H X H,  H = I − 11ᵀ/n
/// ```
/// In [−1, 1]; larger means a kernel whose similar pairs share labels, which a linear model on Φ can use.
/// With gradient rows this is the alignment of the empirical NTK; with the features' own gradients under random
/// cotangents (`gradientKernelScore`) it needs no trained head, so it can rank networks and split points before any
/// training (in the spirit of the label–gradient correlation of Deshpande et al. 2021).
public enum KernelAlignment {
    /// The alignment of `rows` [n, …] (flattened per sample) with `targets`.
    public static func centred(rows: Tensor, targets: Targets, classes: Int) throws -> Double {
        let n = rows.shape[0]
        guard n >= 2, targets.count == n else {
            throw GradFeatError.invalidConfiguration("kernel alignment needs at least 2 samples with one target each, got \(n) and \(targets.count)")
        }
        let width = rows.count / n
        var kernel = [Float](repeating: 0, count: n * n)
        rows.withUnsafeBufferPointer { r in
            kernel.withUnsafeMutableBufferPointer { k in
                BLAS.gemm(transposeB: true, m: n, n: n, k: width, a: r.baseAddress!, lda: width, b: r.baseAddress!,
                          ldb: width, c: k.baseAddress!, ldc: n)
            }
        }
        var labels = [Double](repeating: 0, count: n * classes)
        switch targets {
        case let .classes(y): for (i, label) in y.enumerated() { labels[i * classes + label] = 1 }
        case let .multiLabel(flags, k) where k == classes:
            for (i, flag) in flags.enumerated() where flag == 1 { labels[i] = 1 }
        default:
            throw GradFeatError.invalidConfiguration("kernel alignment needs class labels for \(classes) classes")
        }
        let target = (0..<(n * n)).map { index -> Double in
            let (i, j) = (index / n, index % n)
            return (0..<classes).reduce(0) { $0 + labels[i * classes + $1] * labels[j * classes + $1] }
        }
        let (kc, yc) = (centre(kernel.map(Double.init), n), centre(target, n))
        let dot = zip(kc, yc).reduce(0) { $0 + $1.0 * $1.1 }
        let norms = (kc.reduce(0) { $0 + $1 * $1 } * yc.reduce(0) { $0 + $1 * $1 }).squareRoot()
        return dot / max(norms, .leastNormalMagnitude)
    }

    /// `H X H` for a symmetric n×n matrix: rows and columns minus their means, plus the grand mean.
    static func centre(_ x: [Double], _ n: Int) -> [Double] {
        let means = (0..<n).map { i in (0..<n).reduce(0) { $0 + x[i * n + $1] } / Double(n) }
        let grand = means.reduce(0, +) / Double(n)
        return (0..<(n * n)).map { x[$0] - means[$0 / n] - means[$0 % n] + grand }
    }

    /// The alignment of the kernel `Σⱼ ⟨J(x)ᵀuⱼ, J(x')ᵀuⱼ⟩ / r` (an unbiased estimate of `tr J(x) J(x')ᵀ`, J the
    /// features' Jacobian with respect to θ2) under `probes` seeded Gaussian cotangents u, through `map`: a score of
    /// a network's θ2 at a split before any head is trained.
    public static func gradientKernelScore(
        top: LinearizedTop, inputs: Tensor, targets: Targets, classes: Int, map: GradientRowMap, probes: Int = 4,
        seed: UInt64 = 0
    ) throws -> Double {
        let pass = try top.apply(inputs, parameterTangent: nil)
        let (n, d) = (pass.value.shape[0], pass.value.count / max(pass.value.shape[0], 1))
        var rng = SeededRandom(seed: seed)
        var blocks: [Tensor] = []
        for _ in 0..<probes {
            let u = Tensor.normal([d], using: &rng)
            let cotangent = try Tensor(shape: pass.value.shape, scalars: (0..<n).flatMap { _ in u.scalars })
            let factors = try top.perSampleFactors(pass.record, cotangent: cotangent)
            blocks.append(try map.rows(factors, scales: Array(repeating: 1, count: top.parameters.count)))
        }
        // The rows of all probes side by side: their kernel is the sum of the probes' kernels.
        let width = blocks.first.map { $0.shape[1] } ?? 0
        let joined = try Tensor(shape: [n, probes * width], scalars: (0..<n).flatMap { row in
            blocks.flatMap { $0.scalars[(row * width)..<((row + 1) * width)] }
        })
        return try centred(rows: joined, targets: targets, classes: classes)
    }
}
