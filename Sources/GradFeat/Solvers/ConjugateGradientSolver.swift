import Tensor

/// Conjugate gradient on the quadratic objective of a model linear in its parameters (Hestenes & Stiefel 1952),
/// matrix-free, as LQF solves its linearised network (Achille et al. 2021):
/// ```
/// L(w) = 1/(2N) Σᵢ ‖F_w(xᵢ) − yᵢ‖² + (λ/2) ‖w‖²,     ∇L(w) = A w − b,
/// A = (1/N) JᵀJ + λ,   b = −∇L(0)
/// ```
/// Each iteration applies `A` once — one tangent and one backward pass of the extractor over the training set
/// (`FullBatchObjective.gaussNewtonProduct`) — and stops when the relative residual `‖r‖/‖b‖` reaches the
/// tolerance. Vectors and dot products are Float64; the passes are Float32. With a Jacobi preconditioner the
/// operator's diagonal is estimated by Hutchinson's probes first. The objective needs no pass of its own:
/// ```
/// L(w) = L(0) − ½ wᵀ (b + r),     r = b − A w
/// ```
public struct ConjugateGradientSolver<Extractor: AffineInParameters>: FullBatchSolver {
    public var extractor: Extractor
    public var objective: FullBatchObjective
    public var tolerance: Double
    /// Hutchinson probes for the Jacobi preconditioner (nil: no preconditioner), and their seed.
    public var jacobiProbes: Int?
    public var seed: UInt64
    public var progress: (String) -> Void = { _ in }

    public init(
        extractor: Extractor, objective: FullBatchObjective, tolerance: Double, jacobiProbes: Int? = nil,
        seed: UInt64 = 0
    ) {
        self.extractor = extractor
        self.objective = objective
        self.tolerance = tolerance
        self.jacobiProbes = jacobiProbes
        self.seed = seed
    }

    public struct State: Sendable, Equatable {
        public var w: ParameterVector
        public var residual: ParameterVector
        public var direction: ParameterVector
        public var b: ParameterVector
        /// The inverse of the estimated diagonal (nil: no preconditioner).
        public var inverseDiagonal: ParameterVector?
        /// `rᵀ M⁻¹ r`, `‖b‖`, `L(0)`.
        public var rz: Double
        public var bNorm: Double
        public var objectiveAtZero: Double
    }

    public func start(at initial: ParameterVector) throws -> (state: State, step: SolverStep) {
        var passes = 0
        let zero = ParameterVector(values: [Double](repeating: 0, count: initial.count), shapes: initial.shapes)
        let (objectiveAtZero, gradientAtZero) = try objective.valueAndGradient(extractor, at: zero)
        passes += 1
        var b = gradientAtZero
        b.scale(by: -1)
        var residual = b
        if initial.values.contains(where: { $0 != 0 }) {
            residual = try objective.valueAndGradient(extractor, at: initial).gradient
            residual.scale(by: -1)
            passes += 1
        }
        var inverseDiagonal: ParameterVector?
        if let probes = jacobiProbes {
            var diagonal = try objective.diagonalEstimate(extractor, like: initial, probes: probes, seed: seed) {
                progress("Jacobi preconditioner: probe \($0)/\(probes)")
            }
            for i in diagonal.values.indices { diagonal.values[i] = 1 / diagonal.values[i] }
            inverseDiagonal = diagonal
            passes += probes
        }
        let z = inverseDiagonal.map { residual.multiplied(by: $0) } ?? residual
        let bNorm = b.norm
        let state = State(
            w: initial, residual: residual, direction: z, b: b, inverseDiagonal: inverseDiagonal,
            rz: residual.dot(z), bNorm: bNorm, objectiveAtZero: objectiveAtZero)
        return (state, measure(state, passes: passes))
    }

    public func iterate(_ state: inout State, iteration: Int) throws -> SolverStep {
        guard state.rz > 0 else {
            // A zero residual: w solves the system exactly, and there is no direction to search.
            var step = measure(state, passes: 0)
            step.converged = true
            return step
        }
        let q = try objective.gaussNewtonProduct(extractor, state.direction)
        let curvature = state.direction.dot(q)
        guard curvature.isFinite, state.rz.isFinite else {
            throw GradFeatError.solverFailed(
                iteration: iteration,
                detail: "the residual became NaN or infinite; the features hold NaN, or the "
                    + "problem is too ill-conditioned for Float32 passes: raise --wd")
        }
        guard curvature > 0 else {
            throw GradFeatError.solverFailed(
                iteration: iteration,
                detail: "pᵀAp = \(curvature) ≤ 0, so the operator is not positive definite "
                    + "(with wd > 0 it must be): the extractor is not linear in its parameters")
        }
        let alpha = state.rz / curvature
        state.w.add(state.direction, scaledBy: alpha)
        state.residual.add(q, scaledBy: -alpha)
        // The next direction even after convergence (no pass needed): a resume with a tighter --tol goes on from
        // exactly where an uninterrupted run would.
        let z = state.inverseDiagonal.map { state.residual.multiplied(by: $0) } ?? state.residual
        let rz = state.residual.dot(z)
        state.direction.scaleAndAdd(rz / state.rz, z)
        state.rz = rz
        return measure(state, passes: 1)
    }

    /// The relative residual and the objective `L(0) − ½ wᵀ(b + r)`.
    private func measure(_ state: State, passes: Int) -> SolverStep {
        let relative = state.residual.norm / max(state.bNorm, .leastNormalMagnitude)
        var sum = state.b
        sum.add(state.residual)
        let value = state.objectiveAtZero - 0.5 * state.w.dot(sum)
        return SolverStep(objective: value, residual: relative, converged: relative <= tolerance, passes: passes)
    }

    public func parameters(of state: State) -> ParameterVector { state.w }

    public func save(_ state: State) -> SolverState {
        var vectors = [
            "w": state.w.values, "residual": state.residual.values, "direction": state.direction.values,
            "b": state.b.values,
        ]
        if let inverseDiagonal = state.inverseDiagonal { vectors["inverse_diagonal"] = inverseDiagonal.values }
        return SolverState(
            vectors: vectors,
            numbers: [
                "rz": state.rz, "b_norm": state.bNorm, "objective_at_zero": state.objectiveAtZero,
            ])
    }

    public func restore(_ saved: SolverState, like template: ParameterVector) throws -> State {
        State(
            w: try saved.vector("w", like: template), residual: try saved.vector("residual", like: template),
            direction: try saved.vector("direction", like: template), b: try saved.vector("b", like: template),
            inverseDiagonal: jacobiProbes == nil ? nil : try saved.vector("inverse_diagonal", like: template),
            rz: try saved.number("rz"), bNorm: try saved.number("b_norm"),
            objectiveAtZero: try saved.number("objective_at_zero"))
    }
}
