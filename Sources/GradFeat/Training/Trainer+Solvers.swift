import Foundation
import Layers
import Tensor

extension Trainer {
    /// The weight decays `wd: auto` tries, largest first (each solve starts from the previous one's solution).
    public static let weightDecayGrid: [Double] = [1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
    /// Iterations per candidate λ of `wd: auto` (at most; fewer when the solve converges or `niter` is lower).
    public static let weightDecaySearchIterations = 50

    /// The refusal of `--solver cg` for an extractor that is not affine in its parameters.
    static func notAffine(_ name: String) -> GradFeatError {
        .invalidConfiguration(
            "solver cg needs a model linear in its parameters, and '\(name)' is not (fine-tuning moves the network "
                + "itself; a plugin says so by conforming to AffineInParameters); train it with --solver lbfgs or "
                + "the mini-batch optimiser")
    }

    /// Fits `extractor` with the configuration's full-batch solver — conjugate gradient (`cg`) or L-BFGS
    /// (`lbfgs`) — with the mini-batch path's progress, evaluations, checkpoints and exact resume. `niter` bounds
    /// the solver's iterations; it stops earlier at the tolerance.
    func solve(
        _ extractor: inout any FeatureExtractor, on train: some BatchSource, evaluateOn test: (any BatchSource)?,
        loss: any Loss, resume: TrainingState?
    ) throws -> [EvaluationRecord] {
        if let resume { try check(resume, for: extractor) }
        switch configuration.solver {
        case .cg:
            guard let affine = extractor as? any AffineInParameters else { throw Self.notAffine(label) }
            return try solveWithConjugateGradient(
                affine, into: &extractor, train: train, test: test, loss: loss,
                resume: resume)
        case .lbfgs:
            return try solveWithLBFGS(extractor, into: &extractor, train: train, test: test, loss: loss, resume: resume)
        case .minibatch:
            throw GradFeatError.invalidConfiguration("solver minibatch is trained by Trainer.train, not Trainer.solve")
        }
    }

    private func solveWithConjugateGradient<Extractor: AffineInParameters>(
        _ model: Extractor, into extractor: inout any FeatureExtractor, train: some BatchSource,
        test: (any BatchSource)?, loss: any Loss, resume: TrainingState?
    ) throws -> [EvaluationRecord] {
        let progress = ProgressReporter(
            label, total: configuration.iterations, start: resume?.iteration ?? 0, quiet: quiet)
        let make = { (data: any BatchSource, lambda: Double) in
            var solver = ConjugateGradientSolver(
                extractor: model, objective: FullBatchObjective(data: data, loss: loss, weightDecay: lambda),
                tolerance: configuration.tolerance,
                jacobiProbes: configuration.preconditioner == .jacobi ? configuration.probes : nil,
                seed: configuration.seed)
            solver.progress = { progress.log("\(label): \($0)") }
            return solver
        }
        return try run(
            make, extractor: &extractor, train: train, test: test, loss: loss, resume: resume,
            progress: progress)
    }

    private func solveWithLBFGS<Extractor: FeatureExtractor>(
        _ model: Extractor, into extractor: inout any FeatureExtractor, train: some BatchSource,
        test: (any BatchSource)?, loss: any Loss, resume: TrainingState?
    ) throws -> [EvaluationRecord] {
        let make = { (data: any BatchSource, lambda: Double) in
            LBFGSSolver(
                extractor: model, objective: FullBatchObjective(data: data, loss: loss, weightDecay: lambda),
                tolerance: configuration.tolerance, memory: configuration.lbfgsMemory)
        }
        return try run(
            make, extractor: &extractor, train: train, test: test, loss: loss, resume: resume,
            progress: ProgressReporter(
                label, total: configuration.iterations, start: resume?.iteration ?? 0, quiet: quiet))
    }

    /// The loop every full-batch solver shares: λ (given, chosen on held-out data, or the checkpoint's), the
    /// start or the restored state, iterations until the tolerance or `niter`, evaluations and checkpoints.
    private func run<Solver: FullBatchSolver>(
        _ makeSolver: (any BatchSource, Double) -> Solver, extractor: inout any FeatureExtractor,
        train: some BatchSource, test: (any BatchSource)?, loss: any Loss, resume: TrainingState?,
        progress: ProgressReporter
    ) throws -> [EvaluationRecord] {
        let clock = Date()
        let template = ParameterVector(extractor.parameters)
        let lambda: Double
        var searchPasses = 0
        if let saved = resume?.solverState {
            lambda = try saved.number("lambda")
        } else if configuration.autoWeightDecay {
            (lambda, searchPasses) = try chooseWeightDecay(
                makeSolver, extractor: extractor, train: train, loss: loss, progress: progress)
        } else {
            lambda = Double(configuration.weightDecay)
        }
        let solver = makeSolver(train, lambda)

        var state: Solver.State, step: SolverStep, history: [EvaluationRecord], start: Int, passes: Int
        if let resume, let saved = resume.solverState {
            state = try solver.restore(saved, like: template)
            let residual = try saved.number("residual")
            // A stall (no step lowered the objective) stays a stop; a residual above a new, tighter tol does not.
            let stalled = (saved.numbers["stalled"] ?? 0) != 0
            step = SolverStep(
                objective: try saved.number("objective"), residual: residual,
                converged: stalled || residual <= configuration.tolerance, passes: 0)
            (history, start, passes) = (resume.history, resume.iteration, Int(try saved.number("passes")))
        } else {
            (state, step) = try solver.start(at: template)
            (history, start, passes) = ([], 0, searchPasses + step.passes)
            progress.log(
                String(
                    format: "%@ (%@, λ = %g): start objective %.6g, residual %.3g", label,
                    configuration.solver.rawValue, lambda, step.objective, step.residual))
        }

        func evaluate(_ done: Int) throws {
            extractor.parameters = solver.parameters(of: state).tensors
            let metrics = try test.map { try evaluator.evaluate(extractor, on: $0, loss: loss) }
            history.append(
                EvaluationRecord(
                    iteration: done, trainLoss: step.objective, testLoss: metrics?.loss, testMetric: metrics?.headline,
                    learningRate: 0, seconds: Date().timeIntervalSince(clock), passes: passes))
            try onScalars?(
                done,
                [("solver/objective", step.objective), ("solver/residual", step.residual)]
                    + Self.testScalars(metrics))
            progress.log(
                String(
                    format: "%@ iteration %d: objective %.6g, residual %.3g, %d passes%@", label, done,
                    step.objective, step.residual, passes,
                    metrics.map { String(format: ", test %@ %.2f%%", $0.headlineName, 100 * $0.headline) } ?? ""),
                event: .evaluation,
                values: [
                    ("step", Double(done)), ("objective", step.objective), ("residual", step.residual),
                    ("passes", Double(passes)),
                ] + Self.testValues(metrics))
        }
        func saveCheckpoint(_ done: Int) throws {
            guard let checkpoint else { return }
            var saved = solver.save(state)
            saved.numbers["lambda"] = lambda
            saved.numbers["objective"] = step.objective
            saved.numbers["residual"] = step.residual
            saved.numbers["passes"] = Double(passes)
            saved.numbers["stalled"] = step.converged && step.residual > configuration.tolerance ? 1 : 0
            try checkpoint(
                TrainingState(
                    iteration: done, parameters: solver.parameters(of: state).tensors,
                    parameterNames: extractor.parameterNames, optimizerState: [], optimizerStep: done,
                    randomState: SeededRandom(seed: configuration.seed).stateWords, configuration: configuration,
                    history: history, solverState: saved))
        }

        var done = start
        while done < configuration.iterations && !step.converged {
            step = try solver.iterate(&state, iteration: done)
            passes += step.passes
            done += 1
            progress.update(done, values: [("objective", step.objective), ("residual", step.residual)])
            let finished = step.converged || done == configuration.iterations
            if finished || (configuration.evaluateEvery > 0 && done % configuration.evaluateEvery == 0) {
                try evaluate(done)
            }
            if finished || (configuration.checkpointEvery > 0 && done % configuration.checkpointEvery == 0) {
                try saveCheckpoint(done)
            }
        }
        // Stopped before any iteration of this call (converged at the start, niter reached, a resume with nothing
        // left to do): the state as it stands is evaluated and saved, once.
        if history.last?.iteration != done {
            try evaluate(done)
            try saveCheckpoint(done)
        }
        if step.converged && done > start {
            progress.log(
                step.residual <= configuration.tolerance
                    ? String(
                        format: "%@: converged after %d iterations (residual %.3g ≤ tol %g)", label, done,
                        step.residual, configuration.tolerance)
                    : String(
                        format: "%@: stopped after %d iterations: no step lowers the objective any more (residual "
                            + "%.3g; the precision of the Float32 passes)", label, done, step.residual))
        }
        extractor.parameters = solver.parameters(of: state).tensors
        return history
    }

    /// λ for `wd: auto`: each of ``weightDecayGrid`` solved (warm-started, largest first) on nine tenths of the
    /// training set, seeded by the run's seed, and scored on the held-out tenth by its headline metric (ties: the
    /// lower held-out loss).
    private func chooseWeightDecay<Solver: FullBatchSolver>(
        _ makeSolver: (any BatchSource, Double) -> Solver, extractor: any FeatureExtractor, train: some BatchSource,
        loss: any Loss, progress: ProgressReporter
    ) throws -> (lambda: Double, passes: Int) {
        guard train.count >= 10 else {
            throw GradFeatError.invalidConfiguration(
                "wd auto holds out a tenth of the training set, which has only \(train.count) samples; give --wd a number"
            )
        }
        var rng = SeededRandom(seed: configuration.seed ^ 0x00A0_70DE)
        var order = Array(0..<train.count)
        order.shuffle(using: &rng)
        let heldCount = train.count / 10
        let held = SubsetBatches(train, indices: Array(order[..<heldCount]))
        let fit = SubsetBatches(train, indices: Array(order[heldCount...]))
        var model = extractor
        var w = ParameterVector(extractor.parameters)
        var passes = 0
        var best = (lambda: Self.weightDecayGrid[0], metric: -Double.infinity, loss: Double.infinity)
        for lambda in Self.weightDecayGrid {
            let solver = makeSolver(fit, lambda)
            var (state, step) = try solver.start(at: w)
            passes += step.passes
            var iteration = 0
            while iteration < min(configuration.iterations, Self.weightDecaySearchIterations) && !step.converged {
                step = try solver.iterate(&state, iteration: iteration)
                passes += step.passes
                iteration += 1
            }
            w = solver.parameters(of: state)
            model.parameters = w.tensors
            let metrics = try evaluator.evaluate(model, on: held, loss: loss)
            let heldLoss = metrics.loss ?? .infinity
            progress.log(
                String(
                    format: "%@: wd auto: λ = %g: held-out %@ %.2f%%, loss %.5g (%d iterations)", label,
                    lambda, metrics.headlineName, 100 * metrics.headline, heldLoss, iteration))
            if metrics.headline > best.metric || (metrics.headline == best.metric && heldLoss < best.loss) {
                best = (lambda, metrics.headline, heldLoss)
            }
        }
        progress.log(String(format: "%@: wd auto chose λ = %g on %d held-out samples", label, best.lambda, heldCount))
        return (best.lambda, passes)
    }
}
