import Tensor

/// Limited-memory BFGS on the full-batch objective (Nocedal 1980; Liu & Nocedal 1989) — convex for a model
/// linear in its parameters under cross-entropy or MSE — with a backtracking line search that accepts a step
/// only under the Armijo condition, so the objective decreases at every iteration:
/// ```
/// d = −H ∇L(w)        (two-loop recursion over the last m pairs s = Δw, y = Δ∇L, H₀ = sᵀy / yᵀy)
/// L(w + t d) ≤ L(w) + 10⁻⁴ t ∇L(w)ᵀd,   t = 1, ½, ¼, …
/// ```
/// Pairs with `sᵀy ≤ 0` are not kept (H stays positive definite, d a descent direction). It stops when
/// `‖∇L(w)‖ / ‖∇L(w0)‖` reaches the tolerance, or when no step decreases the objective any more (the Float32
/// passes' precision). Deterministic: full batches, no randomness.
public struct LBFGSSolver<Extractor: FeatureExtractor>: FullBatchSolver {
    public var extractor: Extractor
    public var objective: FullBatchObjective
    public var tolerance: Double
    /// Pairs kept (m).
    public var memory: Int
    static var maximumBacktracks: Int { 40 }

    public init(extractor: Extractor, objective: FullBatchObjective, tolerance: Double, memory: Int = 10) {
        self.extractor = extractor
        self.objective = objective
        self.tolerance = tolerance
        self.memory = max(1, memory)
    }

    public struct State: Sendable, Equatable {
        public var w: ParameterVector
        public var gradient: ParameterVector
        public var value: Double
        public var initialGradientNorm: Double
        /// The last pairs, oldest first.
        public var steps: [ParameterVector]
        public var gradientChanges: [ParameterVector]
    }

    public func start(at initial: ParameterVector) throws -> (state: State, step: SolverStep) {
        let (value, gradient) = try objective.valueAndGradient(extractor, at: initial)
        let state = State(
            w: initial, gradient: gradient, value: value, initialGradientNorm: gradient.norm,
            steps: [], gradientChanges: [])
        return (state, measure(state, passes: 1))
    }

    public func iterate(_ state: inout State, iteration: Int) throws -> SolverStep {
        var direction = searchDirection(state)
        var slope = state.gradient.dot(direction)
        if !(slope < 0) {
            // Rounding made the quasi-Newton direction useless: start again from steepest descent.
            state.steps.removeAll()
            state.gradientChanges.removeAll()
            direction = state.gradient
            direction.scale(by: -1)
            slope = -state.gradient.squaredNorm
        }
        guard slope.isFinite else {
            throw GradFeatError.solverFailed(iteration: iteration, detail: "the gradient became NaN or infinite")
        }
        var t = state.steps.isEmpty ? min(1, 1 / max(state.gradient.norm, .leastNormalMagnitude)) : 1
        var passes = 0
        for _ in 0..<Self.maximumBacktracks {
            var trial = state.w
            trial.add(direction, scaledBy: t)
            passes += 1
            let value: Double, gradient: ParameterVector
            do {
                (value, gradient) = try objective.valueAndGradient(extractor, at: trial)
            } catch TensorError.nonFinite {
                t *= 0.5 // the step overflowed the objective: a shorter one
                continue
            }
            if value <= state.value + 1e-4 * t * slope {
                var step = trial, change = gradient
                step.add(state.w, scaledBy: -1)
                change.add(state.gradient, scaledBy: -1)
                if step.dot(change) > 1e-12 * change.squaredNorm {
                    state.steps.append(step)
                    state.gradientChanges.append(change)
                    if state.steps.count > memory {
                        state.steps.removeFirst()
                        state.gradientChanges.removeFirst()
                    }
                }
                (state.w, state.gradient, state.value) = (trial, gradient, value)
                return measure(state, passes: passes)
            }
            t *= 0.5
        }
        // No step along a descent direction lowers the objective: the passes' precision is reached.
        var step = measure(state, passes: passes)
        step.converged = true
        return step
    }

    /// `−H ∇L` by the two-loop recursion.
    private func searchDirection(_ state: State) -> ParameterVector {
        var q = state.gradient
        let pairs = zip(state.steps, state.gradientChanges).map { ($0, $1, 1 / $1.dot($0)) }
        var alphas = [Double](repeating: 0, count: pairs.count)
        for (i, (s, y, rho)) in pairs.enumerated().reversed() {
            alphas[i] = rho * s.dot(q)
            q.add(y, scaledBy: -alphas[i])
        }
        if let (s, y, _) = pairs.last { q.scale(by: s.dot(y) / y.squaredNorm) }
        for (i, (s, y, rho)) in pairs.enumerated() {
            let beta = rho * y.dot(q)
            q.add(s, scaledBy: alphas[i] - beta)
        }
        q.scale(by: -1)
        return q
    }

    private func measure(_ state: State, passes: Int) -> SolverStep {
        let relative = state.gradient.norm / max(state.initialGradientNorm, .leastNormalMagnitude)
        return SolverStep(objective: state.value, residual: relative, converged: relative <= tolerance, passes: passes)
    }

    public func parameters(of state: State) -> ParameterVector { state.w }

    public func save(_ state: State) -> SolverState {
        var vectors = ["w": state.w.values, "gradient": state.gradient.values]
        for (i, (s, y)) in zip(state.steps, state.gradientChanges).enumerated() {
            vectors["s.\(i)"] = s.values
            vectors["y.\(i)"] = y.values
        }
        return SolverState(
            vectors: vectors,
            numbers: [
                "value": state.value, "initial_gradient_norm": state.initialGradientNorm,
                "pairs": Double(state.steps.count),
            ])
    }

    public func restore(_ saved: SolverState, like template: ParameterVector) throws -> State {
        let pairs = Int(try saved.number("pairs"))
        guard (0...memory).contains(pairs) else {
            throw GradFeatError.checkpointMismatch(
                "its L-BFGS state holds \(pairs) pairs, this run keeps at most \(memory) (lbfgs_memory)")
        }
        return State(
            w: try saved.vector("w", like: template), gradient: try saved.vector("gradient", like: template),
            value: try saved.number("value"), initialGradientNorm: try saved.number("initial_gradient_norm"),
            steps: try (0..<pairs).map { try saved.vector("s.\($0)", like: template) },
            gradientChanges: try (0..<pairs).map { try saved.vector("y.\($0)", like: template) })
    }
}
