import Layers
import Tensor

/// Centred kernel–target alignment (Cortes, Mohri, Rostamizadeh 2012) of the kernel of feature rows Φ [n, D] with
/// the labels:
/// ```
/// A = ⟨K_c, Y_c⟩_F / (‖K_c‖_F ‖Y_c‖_F),     K = Φ Φᵀ,  Y = Λ Λᵀ (Λ the one-hot or 0/1 labels),  X_c = H X H,  H = I − 11ᵀ/n
/// ```
/// In [−1, 1]; larger means a kernel whose similar pairs share labels, which a linear model on Φ can use.
/// With gradient rows this is the alignment of the empirical NTK; with the features' own gradients under random
/// cotangents (`gradientKernelScore`) it needs no trained head, so it can rank networks and split points before any
/// training (in the spirit of the label–gradient correlation of Deshpande et al. 2021).
public enum KernelAlignment {
    /// The largest sample the alignment takes (it holds a few n × n matrices).
    public static let maximumSamples = 5_000

    /// The alignment of `rows` [n, …] (flattened per sample) with `targets`.
    public static func centred(rows: Tensor, targets: Targets, classes: Int) throws -> Double {
        let n = rows.rank > 0 ? rows.shape[0] : 0
        guard n >= 2, n <= maximumSamples, targets.count == n else {
            throw GradFeatError.invalidConfiguration(
                "kernel alignment needs 2 to \(maximumSamples) samples with one target each, got \(n) and \(targets.count)"
            )
        }
        let width = rows.count / n
        // HΦ (each column minus its mean): (HΦ)(HΦ)ᵀ = HKH, without the cancellation of centring K afterwards.
        var centredRows = rows
        centredRows.withUnsafeMutableBufferPointer { r in
            for column in 0..<width {
                var mean = 0.0
                for row in 0..<n { mean += Double(r[row * width + column]) }
                let m = Float(mean / Double(n))
                for row in 0..<n { r[row * width + column] -= m }
            }
        }
        var kernel = [Float](repeating: 0, count: n * n)
        centredRows.withUnsafeBufferPointer { r in
            kernel.withUnsafeMutableBufferPointer { k in
                BLAS.gemm(
                    transposeB: true, m: n, n: n, k: width, a: r.baseAddress!, lda: width, b: r.baseAddress!,
                    ldb: width, c: k.baseAddress!, ldc: n)
            }
        }
        // Y = ΛΛᵀ: for one label a sample, Yᵢⱼ = [yᵢ = yⱼ].
        var target = [Double](repeating: 0, count: n * n)
        switch targets {
        case let .classes(y):
            guard y.allSatisfy({ (0..<classes).contains($0) }) else {
                throw GradFeatError.invalidConfiguration("kernel alignment: a label is outside 0..<\(classes)")
            }
            for i in 0..<n { for j in 0..<n where y[i] == y[j] { target[i * n + j] = 1 } }
        case let .multiLabel(flags, k) where k == classes:
            for i in 0..<n {
                for j in 0..<n {
                    target[i * n + j] = Double(
                        (0..<k).filter { flags[i * k + $0] == 1 && flags[j * k + $0] == 1 }.count)
                }
            }
        default:
            throw GradFeatError.invalidConfiguration("kernel alignment needs class labels for \(classes) classes")
        }
        let yc = centre(target, n)
        let dot = zip(kernel, yc).reduce(0) { $0 + Double($1.0) * $1.1 }
        let norms = (kernel.reduce(0) { $0 + Double($1) * Double($1) } * yc.reduce(0) { $0 + $1 * $1 }).squareRoot()
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
        let n = inputs.shape[0]
        let d = try top.layers.outputShape(for: inputs.shape).count / max(n, 1)
        var rng = SeededRandom(seed: seed)
        let probeVectors = (0..<probes).map { _ in Tensor.normal([d], using: &rng) }
        let tensorScales = [Float](repeating: 1, count: top.parameters.count)
        // The rows of all probes side by side (their kernel is the sum of the probes' kernels), 64 samples at a time.
        var joined: [Float] = []
        for start in stride(from: 0, to: n, by: 64) {
            let chunk = inputs.rows(start..<min(start + 64, n))
            let pass = try top.apply(chunk, parameterTangent: nil)
            let count = chunk.shape[0]
            let blocks = try probeVectors.map { u -> Tensor in
                let cotangent = try Tensor(shape: pass.value.shape, scalars: (0..<count).flatMap { _ in u.scalars })
                return try map.rows(try top.perSampleFactors(pass.record, cotangent: cotangent), scales: tensorScales)
            }
            let width = blocks[0].shape[1]
            for row in 0..<count {
                for block in blocks { joined += block.scalars[(row * width)..<((row + 1) * width)] }
            }
        }
        let joinedRows = try Tensor(shape: [n, joined.count / max(n, 1)], scalars: joined)
        return try centred(rows: joinedRows, targets: targets, classes: classes)
    }
}
