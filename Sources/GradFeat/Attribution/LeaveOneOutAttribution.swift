import Foundation
import Layers
import Tensor

/// Leave-one-out data attribution for a model linear in its parameters, fitted to the optimum of a ridge-regularised
/// objective (the gradients-as-features models of Mu, Liang, Li, ICLR 2020, are linear in their parameters, so this
/// needs no retraining):
/// ```
/// L(w) = (1/N) Σ_i ℓ(J_i w, y_i) + (λ/2)‖w‖²,     H = (1/N) Σ_i J_iᵀ W_i J_i + λ I
/// score(t, j) = F_w*(x_t)[c_t] − F_w₋ⱼ(x_t)[c_t] = −(1/N) J_t[c_t] H⁻¹ J_jᵀ (I − W_j M_j/N)⁻¹ g_j
/// M_j = J_j H⁻¹ J_jᵀ,   g_j = ∂ℓ/∂z at sample j,   W_j = ∂²ℓ/∂z² (`AttributedLoss`)
/// ```
/// where `w₋ⱼ` minimises L with sample j's term dropped (the factor 1/N kept) and `c_t` is test sample t's label:
/// a positive score means training sample j raises the true-class logit of t. For cross-entropy, whose logits are
/// only determined up to a common shift, the score measures the true-class margin
/// `m_t = z_{c_t} − log Σ_{k≠c_t} exp z_k` instead (TRAK's measurement), to first order: `J_t[c_t]` becomes
/// `Σ_k (∂m_t/∂z_k) J_t[k]`. The score is one Newton step from
/// `w*` with `H − J_jᵀW_jJ_j/N` inverted by the Woodbury identity: exact for the squared error (the objective is
/// quadratic), an approximation for cross-entropy (the influence function with its leverage term).
///
/// Two forms, both two passes over the training chunks (the Hessian, then the scores), holding one chunk's rows:
/// - **Kronecker** — class-separable rows (`J_i[k] = e_k ⊗ φ_i`, a linear head) under the squared error: `H` is
///   `I_c ⊗ Q` with the small `Q = (1/N) ΦᵀΦ + λI`, and the score is
///   `−(1/N) φ_tᵀQ⁻¹φ_j · g_{j,c_t} / (1 − φ_jᵀQ⁻¹φ_j/N)`.
/// - **Dense** — any rows `[N, c, p]` (class-separable rows under cross-entropy become `e_k ⊗ φ`, p = c·q): `H` is
///   p × p.
///
/// "Exact" holds to the optimum's accuracy: `w*` from a solver that stopped at a relative residual ε carries an
/// error of order ε into `g_j`.
public struct LeaveOneOutAttribution: Sendable {
    /// λ, the ridge on the stored parameters (the run's `wd`).
    public var weightDecay: Double
    /// The widest system (features for the Kronecker form, parameters for the dense one) factored.
    public var maximumWidth: Int

    /// The widest system factored by default: 8,192 (its Cholesky factor takes 0.5 GB).
    public static let defaultMaximumWidth = 8_192

    public init(weightDecay: Double, maximumWidth: Int = defaultMaximumWidth) {
        self.weightDecay = weightDecay
        self.maximumWidth = maximumWidth
    }

    /// Which system the rows and the loss give, and what it needs in memory.
    public struct Plan: Sendable, Equatable {
        public enum Form: String, Sendable { case kronecker, dense }
        public var form: Form
        /// The order of the system: q features, or p parameters.
        public var order: Int
        /// Bytes held while the scores are computed, besides the score matrix: the system, the test rows and one
        /// chunk's rows and intermediates.
        public var workingBytes: Int
    }

    /// The plan for training rows like `sample`'s, `testCount` test samples and chunks of `chunkSize`.
    public func plan(
        rows sample: JacobianRows, classes: Int, loss: AttributedLoss, testCount: Int,
        chunkSize: Int
    ) throws -> Plan {
        let kronecker: Bool
        if case .classSeparable = sample, case .squaredError = loss { kronecker = true } else { kronecker = false }
        let order = kronecker ? sample.width(classes: 1) : sample.width(classes: classes)
        guard order <= maximumWidth else {
            throw GradFeatError.invalidConfiguration(
                "attribution factors a \(order) × \(order) system for this model, over the limit of \(maximumWidth): "
                    + "linearize a smaller layer, project the gradient rows to fewer dimensions (--projection K), or "
                    + "attribute the activation model with --loss mse")
        }
        let (m, n, c) = (testCount, max(1, chunkSize), classes)
        let bytes: Int
        if kronecker {
            bytes = 8 * (2 * order * order + 2 * m * order + 3 * n * order + m * n)
        } else {
            bytes = 8 * (2 * order * order + 2 * m * order + 3 * n * c * order + n * c * m) + 4 * n * c * order
        }
        return Plan(form: kronecker ? .kronecker : .dense, order: order, workingBytes: bytes)
    }

    /// What an attribution gives: every score (when asked for) and the ranked lists.
    public struct Result: Sendable {
        /// `[n_test, N]` row-major, training columns in the training data's order; nil unless `keepScores`.
        public var scores: [Double]?
        public var ranking: AttributionRanking
        public var trainLabels: [Int]
        public var testLabels: [Int]
        public var plan: Plan
    }

    /// Scores every training sample of `train` for every test sample of `test`.
    /// - Parameters:
    ///   - train: the training samples' features and labels.
    ///   - test: the samples to explain.
    ///   - classes: the number of outputs.
    ///   - loss: the loss the model was fitted with (squared error: exact; cross-entropy: one Newton step).
    ///   - topK: the length of the ranked lists.
    ///   - decide: given the plan before any pass, whether to also return the whole `[n_test, N]` matrix (it may
    ///     throw to refuse the work: a memory budget).
    ///   - progress: called as each pass starts and after each chunk, with the pass (1: the Hessian, 2: the scores)
    ///     and the samples done.
    public func attribute(
        train: AttributionData, test: AttributionData, classes: Int, loss: AttributedLoss, topK: Int,
        keepScores decide: (Plan) throws -> Bool, progress: ((_ pass: Int, _ done: Int) -> Void)? = nil
    ) throws -> Result {
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw GradFeatError.invalidConfiguration("attribution: λ must be a finite number ≥ 0, got \(weightDecay)")
        }
        guard train.count > 0, test.count > 0 else {
            throw GradFeatError.invalidConfiguration("attribution: a data set has no samples")
        }
        let tested = try test.all()
        try Self.check(tested, classes: classes, role: "test")
        let first = try train.chunk(0..<min(train.chunkSize, train.count))
        let plan = try plan(
            rows: first.rows, classes: classes, loss: loss, testCount: tested.labels.count,
            chunkSize: train.chunkSize)
        switch (plan.form, tested.rows) {
        case (.kronecker, .classSeparable), (.dense, _): break
        default:
            throw GradFeatError.invalidConfiguration("attribution: training and test rows must be of the same kind")
        }
        let keepScores = try decide(plan)
        var system = Self.Accumulator(order: plan.order, form: plan.form, classes: classes, loss: loss)
        var trainLabels: [Int] = []
        progress?(1, 0)
        try train.forEachChunk(first: first) { start, chunk in
            try Self.check(chunk, classes: classes, role: "training")
            try system.add(chunk)
            trainLabels += chunk.labels
            progress?(1, start + chunk.labels.count)
        }
        let n = trainLabels.count
        let cholesky = try Cholesky(symmetric: system.matrix(samples: n, ridge: weightDecay), order: plan.order)
        // S = H⁻¹ Tᵀ for the gradients T of the test samples' measured function: m contiguous columns.
        let m = tested.labels.count
        var solvedTest = Self.measuredRows(tested, form: plan.form, classes: classes, loss: loss)
        try cholesky.solve(&solvedTest, columns: m)
        var ranking = AttributionRanking(rows: m, k: min(topK, n))
        var scores: [Double] = keepScores ? [Double](repeating: 0, count: m * n) : []
        progress?(2, 0)
        try train.forEachChunk(first: first) { start, chunk in
            let block = try blockScores(
                chunk, start: start, total: n, cholesky: cholesky, solvedTest: solvedTest,
                testLabels: tested.labels, plan: plan, classes: classes, loss: loss)
            guard block.allSatisfy(\.isFinite) else {
                throw TensorError.nonFinite(what: "the attribution scores (non-finite features or logits)")
            }
            let columns = chunk.labels.count
            ranking.add(block, columns: columns, start: start)
            if keepScores {
                for t in 0..<m {
                    for j in 0..<columns { scores[t * n + start + j] = block[t * columns + j] }
                }
            }
            progress?(2, start + columns)
        }
        return Result(
            scores: keepScores ? scores : nil, ranking: ranking, trainLabels: trainLabels,
            testLabels: tested.labels, plan: plan)
    }

    static func interpolates(_ sample: Int) -> GradFeatError {
        .invalidConfiguration(
            "training sample \(sample) is interpolated by the model (its leverage is N): leaving it out is undefined; "
                + "train with a larger λ (--wd)")
    }

    static func check(_ chunk: AttributionData.Chunk, classes: Int, role: String) throws {
        guard chunk.logits.shape == [chunk.labels.count, classes] else {
            throw TensorError.shapeMismatch(
                operation: "attribution \(role) logits", expected: [chunk.labels.count, classes],
                got: chunk.logits.shape)
        }
        guard chunk.labels.allSatisfy({ (0..<classes).contains($0) }) else {
            throw GradFeatError.invalidConfiguration(
                "attribution: every \(role) sample needs a label in 0..<\(classes)")
        }
        if case let .dense(j) = chunk.rows, j.rank != 3 || j.shape[1] != classes {
            throw GradFeatError.invalidConfiguration(
                "attribution: dense Jacobian rows are [N, \(classes), p], got \(j.shape)")
        }
    }

    /// The rows of a chunk in the form's layout, in Float64: `[n, q]` (Kronecker) or `[n·c, p]` (dense).
    static func values(_ rows: JacobianRows, form: Plan.Form, classes: Int) -> [Double] {
        switch (form, rows) {
        case let (.kronecker, .classSeparable(phi)): return phi.scalars.map(Double.init)
        default: return rows.dense(classes: classes).scalars.map(Double.init)
        }
    }

    /// The gradients of the measured function of each test sample, `[m, order]`: φ_t (Kronecker), `J_t[c_t]` (the
    /// true-class logit, dense), or for cross-entropy `Σ_k a_k J_t[k]` with `a = ∂m/∂z` (the margin's).
    static func measuredRows(
        _ chunk: AttributionData.Chunk, form: Plan.Form, classes c: Int,
        loss: AttributedLoss
    ) -> [Double] {
        let all = values(chunk.rows, form: form, classes: c)
        guard form == .dense else { return all }
        let p = all.count / max(1, chunk.labels.count * c)
        let logits = chunk.logits.scalars.map(Double.init)
        var out = [Double](repeating: 0, count: chunk.labels.count * p)
        for (t, label) in chunk.labels.enumerated() {
            let a = loss.measuredGradient(logits: logits[(t * c)..<((t + 1) * c)], label: label)
            for k in 0..<c where a[k] != 0 {
                for i in 0..<p { out[t * p + i] += a[k] * all[(t * c + k) * p + i] }
            }
        }
        return out
    }

    /// `(1/N) Σ_i J_iᵀ W_i J_i` (or `(1/N) ΦᵀΦ`) summed chunk by chunk.
    struct Accumulator {
        let order: Int, form: Plan.Form, classes: Int, loss: AttributedLoss
        var sum: [Double]

        init(order: Int, form: Plan.Form, classes: Int, loss: AttributedLoss) {
            (self.order, self.form, self.classes, self.loss) = (order, form, classes, loss)
            sum = [Double](repeating: 0, count: order * order)
        }

        mutating func add(_ chunk: AttributionData.Chunk) throws {
            let x = LeaveOneOutAttribution.values(chunk.rows, form: form, classes: classes)
            let rows = x.count / order
            guard rows * order == x.count, chunk.rows.width(classes: form == .dense ? classes : 1) == order else {
                throw GradFeatError.invalidConfiguration(
                    "attribution: a chunk's rows are \(chunk.rows.width(classes: classes)) wide, the first's \(order)")
            }
            // Rows weighted by each sample's curvature: W_i J_i (the rows themselves for the identity).
            var weighted = x
            if form == .dense {
                let c = classes
                let logits = chunk.logits.scalars.map(Double.init)
                for sample in 0..<chunk.labels.count {
                    guard let w = loss.curvature(logits: logits[(sample * c)..<((sample + 1) * c)]) else { continue }
                    for a in 0..<c {
                        for i in 0..<order {
                            var value = 0.0
                            for b in 0..<c { value += w[a * c + b] * x[(sample * c + b) * order + i] }
                            weighted[(sample * c + a) * order + i] = value
                        }
                    }
                }
            }
            x.withUnsafeBufferPointer { xp in
                weighted.withUnsafeBufferPointer { wp in
                    sum.withUnsafeMutableBufferPointer { sp in
                        BLAS.dgemm(
                            transposeA: true, m: order, n: order, k: rows, a: xp.baseAddress!, lda: order,
                            b: wp.baseAddress!, ldb: order, beta: 1, c: sp.baseAddress!, ldc: order)
                    }
                }
            }
        }

        /// `(1/N) Σ + λI`.
        func matrix(samples n: Int, ridge: Double) -> [Double] {
            var h = sum.map { $0 / Double(max(n, 1)) }
            for i in 0..<order { h[i * order + i] += ridge }
            return h
        }
    }

    /// The scores `[m, n]` of a chunk of n training samples starting at `start`.
    func blockScores(
        _ chunk: AttributionData.Chunk, start: Int, total: Int, cholesky: Cholesky, solvedTest: [Double],
        testLabels: [Int], plan: Plan, classes c: Int, loss: AttributedLoss
    ) throws -> [Double] {
        let (n, m, order) = (chunk.labels.count, testLabels.count, plan.order)
        let scale = 1 / Double(total)
        let x = Self.values(chunk.rows, form: plan.form, classes: c)
        let logits = chunk.logits.scalars.map(Double.init)
        let gradients = (0..<n).map {
            loss.gradient(logits: logits[($0 * c)..<(($0 + 1) * c)], label: chunk.labels[$0])
        }
        // V = H⁻¹ Xᵀ, one solved column per row of X (X's row-major layout solved in place).
        var solved = x
        try cholesky.solve(&solved, columns: x.count / order)
        // K = X Sᵀ: each row of X against each test sample's solved row.
        let rowCount = x.count / order
        var kernel = [Double](repeating: 0, count: rowCount * m)
        x.withUnsafeBufferPointer { xp in
            solvedTest.withUnsafeBufferPointer { sp in
                kernel.withUnsafeMutableBufferPointer { kp in
                    BLAS.dgemm(
                        transposeB: true, m: rowCount, n: m, k: order, a: xp.baseAddress!, lda: order,
                        b: sp.baseAddress!, ldb: order, c: kp.baseAddress!, ldc: m)
                }
            }
        }
        func dot(_ a: Int, _ b: Int) -> Double {
            var sum = 0.0
            for i in 0..<order { sum += x[a * order + i] * solved[b * order + i] }
            return sum
        }
        var block = [Double](repeating: 0, count: m * n)
        switch plan.form {
        case .kronecker:
            for j in 0..<n {
                // 1 − h_j/N → 0 when the model interpolates sample j (λ → 0 with N ≤ q): removing it is undefined.
                let keep = 1 - dot(j, j) * scale
                guard keep > 1e-12 else { throw Self.interpolates(start + j) }
                for t in 0..<m { block[t * n + j] = -scale * kernel[j * m + t] * gradients[j][testLabels[t]] / keep }
            }
        case .dense:
            for j in 0..<n {
                // u_j = (I − W_j M_j/N)⁻¹ g_j
                var system = [Double](repeating: 0, count: c * c)
                var leverage = [Double](repeating: 0, count: c * c) // M_j = J_j H⁻¹ J_jᵀ
                for a in 0..<c { for b in 0..<c { leverage[a * c + b] = dot(j * c + a, j * c + b) } }
                let w = loss.curvature(logits: logits[(j * c)..<((j + 1) * c)])
                for a in 0..<c {
                    for b in 0..<c {
                        var wm = leverage[a * c + b]
                        if let w { wm = (0..<c).reduce(0) { $0 + w[a * c + $1] * leverage[$1 * c + b] } }
                        system[a * c + b] = (a == b ? 1 : 0) - scale * wm
                    }
                }
                guard let u = Self.solveSmall(system, gradients[j], order: c) else {
                    throw Self.interpolates(start + j)
                }
                for t in 0..<m {
                    var sum = 0.0
                    for a in 0..<c { sum += kernel[(j * c + a) * m + t] * u[a] }
                    block[t * n + j] = -scale * sum
                }
            }
        }
        return block
    }

    /// `A⁻¹ b` for a small general `A` by Gaussian elimination with partial pivoting; nil when `A` is (nearly)
    /// singular.
    static func solveSmall(_ matrix: [Double], _ rhs: [Double], order n: Int) -> [Double]? {
        var a = matrix, b = rhs
        let size = a.map(abs).max() ?? 0
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) } ?? column
            guard abs(a[pivot * n + column]) > 1e-12 * max(size, 1) else { return nil }
            if pivot != column {
                for i in 0..<n { a.swapAt(column * n + i, pivot * n + i) }
                b.swapAt(column, pivot)
            }
            for row in (column + 1)..<n {
                let f = a[row * n + column] / a[column * n + column]
                guard f != 0 else { continue }
                for i in column..<n { a[row * n + i] -= f * a[column * n + i] }
                b[row] -= f * b[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[row]
            for i in (row + 1)..<n { sum -= a[row * n + i] * x[i] }
            x[row] = sum / a[row * n + row]
        }
        return x
    }
}
