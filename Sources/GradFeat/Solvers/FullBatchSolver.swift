/// A solver of the full-batch training objective that runs one iteration at a time, its state saved in
/// checkpoints between iterations: conjugate gradient (`ConjugateGradientSolver`) and L-BFGS (`LBFGSSolver`).
/// `Trainer` runs it with the same progress, evaluations, checkpoints and resume as the mini-batch optimisers.
public protocol FullBatchSolver {
    associatedtype State

    /// The state at the initial parameters `initial`, before the first iteration.
    func start(at initial: ParameterVector) throws -> (state: State, step: SolverStep)
    /// One iteration.
    func iterate(_ state: inout State, iteration: Int) throws -> SolverStep
    /// The current iterate.
    func parameters(of state: State) -> ParameterVector

    func save(_ state: State) -> SolverState
    func restore(_ saved: SolverState, like template: ParameterVector) throws -> State
}

/// What one iteration (or the start) of a full-batch solver reached.
public struct SolverStep: Sendable, Equatable {
    /// The objective at the iterate (data term and weight decay).
    public var objective: Double
    /// The stopping measure: the relative residual `‖b − A w‖ / ‖b‖` (CG) or the relative gradient norm
    /// `‖∇L(w)‖ / ‖∇L(w0)‖` (L-BFGS).
    public var residual: Double
    /// Whether the solver stopped: the measure reached the tolerance, or (L-BFGS) no step lowers the objective.
    public var converged: Bool
    /// Passes over the training set this step took.
    public var passes: Int

    public init(objective: Double, residual: Double, converged: Bool, passes: Int) {
        self.objective = objective
        self.residual = residual
        self.converged = converged
        self.passes = passes
    }
}
