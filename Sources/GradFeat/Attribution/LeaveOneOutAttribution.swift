import Foundation
import Layers
import Tensor

/// Exact leave-one-out data attribution for a linear model fitted to the optimum of the ridge-regularised MSE
/// objective (`--loss mse --solver cg`; the gradients-as-features model of Mu, Liang, Li, ICLR 2020, is linear in
/// its parameters, so this needs no retraining):
/// ```
/// L(w) = (1/N) Σ_i ½‖J_i w − y_i‖² + (λ/2)‖w‖²,     H = (1/N) Σ_i J_iᵀ J_i + λ I
/// score(t, j) = F_w*(x_t)[c_t] − F_w₋ⱼ(x_t)[c_t] = −(1/N) J_t[c_t] H⁻¹ J_jᵀ (I − M_j/N)⁻¹ r_j
/// M_j = J_j H⁻¹ J_jᵀ,   r_j = J_j w* − y_j
/// ```
/// where `w₋ⱼ` minimises L with sample j's term dropped (the factor 1/N kept), `c_t` is test sample t's label:
/// a positive score means training sample j raises the true-class logit of t. The step from `w*` to `w₋ⱼ` is one
/// Newton step (exact for a quadratic) with `H − J_jᵀJ_j/N` inverted by the Woodbury identity.
///
/// For class-separable rows (`J_i[k] = e_k ⊗ φ_i`, a linear head) `H` is `I_c ⊗ Q` with the small
/// `Q = (1/N) ΦᵀΦ + λI`, and the score reduces to `−(1/N) φ_tᵀQ⁻¹φ_j r_{j,c_t} / (1 − φ_jᵀQ⁻¹φ_j/N)`.
/// "Exact" holds to the optimum's accuracy: `w*` from a solver that stopped at a relative residual ε carries an
/// error of order ε into `r_j`.
public struct LeaveOneOutAttribution: Sendable {
    /// λ, the ridge on the stored parameters (the run's `wd`).
    public var weightDecay: Double
    /// The widest dense Jacobian (parameters p) whose `p × p` system is factored; wider ones are refused.
    public var maximumDenseParameters: Int

    /// The widest rows factored by default: 8,192 parameters (dense rows) or features (class-separable rows).
    public static let defaultMaximumWidth = 8_192

    public init(weightDecay: Double, maximumDenseParameters: Int = defaultMaximumWidth) {
        self.weightDecay = weightDecay
        self.maximumDenseParameters = maximumDenseParameters
    }

    /// The scores `[n_test, N]` (row-major) of every training sample for every test sample.
    /// - Parameters:
    ///   - train: the training samples' Jacobian rows (N samples).
    ///   - residuals: `r_j = F_w*(x_j) − y_j`, `[N, c]` row-major.
    ///   - test: the test samples' Jacobian rows, of the same kind.
    ///   - testClasses: each test sample's label `c_t`.
    public func scores(train: JacobianRows, residuals: [Double], classes: Int, test: JacobianRows,
                       testClasses: [Int]) throws -> [Double] {
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw GradFeatError.invalidConfiguration("attribution: λ must be a finite number ≥ 0, got \(weightDecay)")
        }
        guard residuals.count == train.count * classes else {
            throw GradFeatError.invalidConfiguration(
                "attribution: \(train.count) training samples of \(classes) classes need \(train.count * classes) "
                    + "residuals, got \(residuals.count)")
        }
        guard testClasses.count == test.count, testClasses.allSatisfy({ (0..<classes).contains($0) }) else {
            throw GradFeatError.invalidConfiguration(
                "attribution: every test sample needs a label in 0..<\(classes) (\(test.count) samples, "
                    + "\(testClasses.count) labels)")
        }
        let scores: [Double]
        switch (train, test) {
        case let (.classSeparable(phi), .classSeparable(testPhi)):
            scores = try separable(phi: phi, residuals: residuals, classes: classes, testPhi: testPhi,
                                   testClasses: testClasses)
        case let (.dense(j), .dense(testJ)):
            scores = try dense(j: j, residuals: residuals, testJ: testJ, testClasses: testClasses)
        default:
            throw GradFeatError.invalidConfiguration("attribution: training and test rows must be of the same kind")
        }
        guard scores.allSatisfy(\.isFinite) else {
            throw TensorError.nonFinite(what: "the attribution scores (non-finite features or residuals)")
        }
        return scores
    }

    static func interpolates(_ sample: Int) -> GradFeatError {
        .invalidConfiguration(
            "training sample \(sample) is interpolated by the model (its leverage is N): leaving it out is undefined; "
                + "train with a larger λ (--wd)")
    }

    // MARK: - Class-separable rows

    private func separable(phi: Tensor, residuals: [Double], classes: Int, testPhi: Tensor,
                           testClasses: [Int]) throws -> [Double] {
        guard phi.rank == 2, testPhi.rank == 2, testPhi.shape[1] == phi.shape[1] else {
            throw TensorError.shapeMismatch(operation: "attribution test features", expected: phi.shape, got: testPhi.shape)
        }
        let (n, q) = (phi.shape[0], phi.shape[1])
        let m = testPhi.shape[0]
        guard q <= maximumDenseParameters else {
            throw GradFeatError.invalidConfiguration(
                "exact attribution factors a \(q) × \(q) system for \(q) features, over the limit of "
                    + "\(maximumDenseParameters): split the network later (fewer features)")
        }
        let train = phi.scalars.map(Double.init), tested = testPhi.scalars.map(Double.init)
        let cholesky = try Cholesky(symmetric: gram(train, rows: n, columns: q, samples: n), order: q)
        // A = Q⁻¹ Φᵀ, stored as N contiguous columns of q: exactly Φ's row-major layout solved in place.
        var solved = train
        try cholesky.solve(&solved, columns: n)
        let scale = 1 / Double(max(n, 1))
        var kernel = [Double](repeating: 0, count: m * n)  // φ_tᵀ Q⁻¹ φ_j
        tested.withUnsafeBufferPointer { t in
            solved.withUnsafeBufferPointer { a in
                kernel.withUnsafeMutableBufferPointer { k in
                    BLAS.dgemm(transposeB: true, m: m, n: n, k: q, a: t.baseAddress!, lda: q, b: a.baseAddress!,
                               ldb: q, c: k.baseAddress!, ldc: n)
                }
            }
        }
        var factor = [Double](repeating: 0, count: n)  // 1 / (1 − h_j/N)
        for j in 0..<n {
            var leverage = 0.0
            for i in 0..<q { leverage += train[j * q + i] * solved[j * q + i] }
            // 1 − h_j/N → 0 when the model interpolates sample j (λ → 0 with N ≤ q): removing it is then undefined.
            guard 1 - leverage * scale > 1e-12 else { throw Self.interpolates(j) }
            factor[j] = 1 / (1 - leverage * scale)
        }
        for t in 0..<m {
            let c = testClasses[t]
            for j in 0..<n { kernel[t * n + j] *= -scale * residuals[j * classes + c] * factor[j] }
        }
        return kernel
    }

    // MARK: - Dense rows

    private func dense(j: Tensor, residuals: [Double], testJ: Tensor, testClasses: [Int]) throws -> [Double] {
        guard j.rank == 3 else {
            throw GradFeatError.invalidConfiguration("attribution: dense Jacobian rows are [N, c, p], got \(j.shape)")
        }
        let (n, c, p) = (j.shape[0], j.shape[1], j.shape[2])
        let m = testJ.shape[0]
        guard testJ.rank == 3, testJ.shape[1] == c, testJ.shape[2] == p else {
            throw TensorError.shapeMismatch(operation: "attribution test rows", expected: [m, c, p], got: testJ.shape)
        }
        guard p <= maximumDenseParameters else {
            throw GradFeatError.invalidConfiguration(
                "exact attribution factors a \(p) × \(p) system for this model's \(p) parameters, over the limit of "
                    + "\(maximumDenseParameters): linearize a smaller layer, or attribute the activation model")
        }
        let rows = j.scalars.map(Double.init)
        let cholesky = try Cholesky(symmetric: gram(rows, rows: n * c, columns: p, samples: n), order: p)
        // V = H⁻¹ Jᵀ: N·c contiguous columns of p, J's row-major layout solved in place.
        var solved = rows
        try cholesky.solve(&solved, columns: n * c)
        let scale = 1 / Double(max(n, 1))
        // d_j = H⁻¹ J_jᵀ (I − M_j/N)⁻¹ r_j, one row of p per training sample.
        var directions = [Double](repeating: 0, count: n * p)
        for sample in 0..<n {
            var system = [Double](repeating: 0, count: c * c)  // I − M_j/N, symmetric
            for a in 0..<c {
                for b in 0..<c {
                    var dot = 0.0
                    let (ra, vb) = ((sample * c + a) * p, (sample * c + b) * p)
                    for i in 0..<p { dot += rows[ra + i] * solved[vb + i] }
                    system[a * c + b] = (a == b ? 1 : 0) - scale * dot
                }
            }
            let u: [Double]
            do {
                u = try Cholesky(symmetric: system, order: c).solve(Array(residuals[(sample * c)..<((sample + 1) * c)]))
            } catch { throw Self.interpolates(sample) }
            for b in 0..<c {
                let vb = (sample * c + b) * p
                for i in 0..<p { directions[sample * p + i] += solved[vb + i] * u[b] }
            }
        }
        // The test rows of the true classes, then −(1/N) T Dᵀ.
        var tested = [Double](repeating: 0, count: m * p)
        testJ.withUnsafeBufferPointer { tp in
            for t in 0..<m {
                let row = (t * c + testClasses[t]) * p
                for i in 0..<p { tested[t * p + i] = Double(tp[row + i]) }
            }
        }
        var scores = [Double](repeating: 0, count: m * n)
        tested.withUnsafeBufferPointer { t in
            directions.withUnsafeBufferPointer { d in
                scores.withUnsafeMutableBufferPointer { s in
                    BLAS.dgemm(transposeB: true, m: m, n: n, k: p, alpha: -scale, a: t.baseAddress!, lda: p,
                               b: d.baseAddress!, ldb: p, c: s.baseAddress!, ldc: n)
                }
            }
        }
        return scores
    }

    /// `(1/N) XᵀX + λI` for the row-major `rows × columns` X of N `samples` (rows = N, or N·c for dense rows).
    private func gram(_ x: [Double], rows: Int, columns: Int, samples: Int) -> [Double] {
        var g = [Double](repeating: 0, count: columns * columns)
        x.withUnsafeBufferPointer { xp in
            g.withUnsafeMutableBufferPointer { gp in
                BLAS.dgemm(transposeA: true, m: columns, n: columns, k: rows, alpha: 1 / Double(max(samples, 1)),
                           a: xp.baseAddress!, lda: columns, b: xp.baseAddress!, ldb: columns, c: gp.baseAddress!,
                           ldc: columns)
            }
        }
        for i in 0..<columns { g[i * columns + i] += weightDecay }
        return g
    }
}

extension LeaveOneOutAttribution {
    /// What an attribution needs of a data set: the model's Jacobian rows of every sample, `r_j = F_w(x_j) − y_j`
    /// (the per-sample gradient of the MSE loss in the logits), and the single labels.
    public struct Samples: Sendable {
        public var rows: JacobianRows
        public var residuals: [Double]
        public var labels: [Int]
    }

    /// The samples of `data` under `model`, in chunks of `chunkSize` (no more than one chunk's intermediates at once).
    /// Refuses multi-label targets: the exact form here is for one label per sample.
    public static func samples(
        of model: some JacobianRowsProvider, on data: any BatchSource, loss: OneHotMeanSquaredError,
        chunkSize: Int = 256, maximumGigabytes: Double = 8, maximumWidth: Int = defaultMaximumWidth
    ) throws -> Samples {
        guard data.count > 0 else { throw GradFeatError.invalidConfiguration("attribution: a data set has no samples") }
        let chunkSize = max(1, chunkSize)
        var separable: [Float] = [], dense: [Float] = []
        var rowShape: [Int] = []
        var residuals: [Double] = [], labels: [Int] = []
        for start in stride(from: 0, to: data.count, by: chunkSize) {
            let (inputs, targets) = try data.batch(Array(start..<min(start + chunkSize, data.count)))
            guard case let .classes(chunkLabels) = targets else {
                throw GradFeatError.invalidConfiguration(
                    "exact attribution needs one label per sample; this data set is multi-label")
            }
            labels += chunkLabels
            let chunkRows = try model.jacobianRows(inputs)
            if start == 0 {
                // Float32 rows here, two Float64 copies in the solve (20 bytes a value): refuse before any is too large,
                // and rows wider than the solve factors before they are all computed.
                let width = chunkRows.count > 0 ? chunkRows.valueCount / chunkRows.count : 0
                let gigabytes = Double(width) * Double(data.count) * 20 / 1e9
                guard gigabytes <= maximumGigabytes else {
                    throw GradFeatError.invalidConfiguration(String(
                        format: "the Jacobian rows of %d samples (%d values each) need about %.1f GB, over the limit "
                            + "of %.0f GB: train on fewer samples or linearize a smaller θ2", data.count,
                        width, gigabytes, maximumGigabytes))
                }
                let factored: Int
                switch chunkRows {
                case let .classSeparable(phi): factored = phi.shape[1]
                case let .dense(j): factored = j.rank == 3 ? j.shape[2] : width
                }
                guard factored <= maximumWidth else {
                    throw GradFeatError.invalidConfiguration(
                        "exact attribution factors a \(factored) × \(factored) system for this model, over the limit of "
                            + "\(maximumWidth): linearize a smaller layer, or attribute the activation model")
                }
            }
            switch chunkRows {
            case let .classSeparable(phi):
                separable += phi.scalars
                rowShape = Array(phi.shape.dimensions.dropFirst())
            case let .dense(j):
                dense += j.scalars
                rowShape = Array(j.shape.dimensions.dropFirst())
            }
            // Each sample's own gradient of ½‖F − y‖²: its residual r.
            let logits = try model.forward(inputs, mode: .evaluation).logits
            residuals += try loss.perSampleGradients(logits: logits, targets: targets).scalars.map(Double.init)
        }
        let n = labels.count
        let rows: JacobianRows = dense.isEmpty
            ? .classSeparable(try Tensor(shape: Shape([n] + rowShape), scalars: separable))
            : .dense(try Tensor(shape: Shape([n] + rowShape), scalars: dense))
        return Samples(rows: rows, residuals: residuals, labels: labels)
    }
}
