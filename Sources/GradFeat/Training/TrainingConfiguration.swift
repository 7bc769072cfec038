import Layers

/// Everything that decides a training run; saved beside its results and in its checkpoints.
/// Keys follow the released PyTorch code where it has one (`batchsize`, `optim`, `lr`, `wd`, `niter`, `stepsize`);
/// `init(contentsOf:over:)` reads them from a JSON or YAML file.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable { case adam, sgd }
    /// What the model is trained to minimise: softmax cross-entropy, per-class binary cross-entropy, or the mean
    /// squared error to (scaled) one-hot targets.
    public enum LossKind: String, Codable, Sendable, CaseIterable { case ce, bce, mse }
    /// How the parameters are fitted: mini-batches of `optim` (Adam or SGD), conjugate gradient on the quadratic
    /// (MSE) objective, or full-batch L-BFGS.
    public enum SolverKind: String, Codable, Sendable, CaseIterable { case minibatch, cg, lbfgs }
    /// Conjugate gradient's preconditioner: none, or the inverse of the operator's diagonal estimated by Hutchinson's
    /// probes.
    public enum PreconditionerKind: String, Codable, Sendable, CaseIterable { case none, jacobi }

    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var weightDecay: Float
    public var momentum: Float
    public var beta1: Float
    public var beta2: Float
    public var batchSize: Int
    public var iterations: Int
    /// The learning rate is multiplied by `stepFactor` every `stepSize` iterations.
    public var stepSize: Int
    public var stepFactor: Float
    /// Gradient-norm clipping (nil: none).
    public var clipNorm: Float?
    /// Evaluate every this many iterations (0: only at the end).
    public var evaluateEvery: Int
    /// Write a checkpoint every this many iterations (0: only at the end).
    public var checkpointEvery: Int
    public var seed: UInt64
    /// The loss; nil: the one the targets call for (cross-entropy, or binary cross-entropy for multi-label data).
    public var loss: LossKind?
    /// The MSE loss's targets are `targetScale` times the one-hot (or 0/1 multi-label) vectors.
    public var targetScale: Float
    public var solver: SolverKind
    /// The solvers stop when the relative residual (CG) or relative gradient norm (L-BFGS) falls to this.
    public var tolerance: Double
    public var preconditioner: PreconditionerKind
    /// Hutchinson probes (full passes) for the Jacobi preconditioner's diagonal.
    public var probes: Int
    /// Pairs of steps and gradient changes that L-BFGS keeps.
    public var lbfgsMemory: Int
    /// Choose `weightDecay` on a held-out tenth of the training set (`wd: auto`; the solvers only).
    public var autoWeightDecay: Bool
    /// Cut each mini-batch into this many fixed micro-batches, summed in order (1: whole batches). Under `mpirun`
    /// the ranks share them, and the parameters are the same bits for any number of ranks up to it
    /// (`Trainer+MicroBatches.swift`, docs/DISTRIBUTED.md).
    public var microBatches: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case optimizer = "optim", learningRate = "lr", weightDecay = "wd", momentum, beta1, beta2
        case batchSize = "batchsize", iterations = "niter", stepSize = "stepsize", stepFactor = "stepfactor"
        case clipNorm = "clip", evaluateEvery = "eval_every", checkpointEvery = "checkpoint_every", seed
        case loss, targetScale = "target_scale", solver, tolerance = "tol", preconditioner, probes
        case lbfgsMemory = "lbfgs_memory", microBatches = "micro_batches"
    }

    public init(
        optimizer: OptimizerKind, learningRate: Float, weightDecay: Float, momentum: Float = 0.9,
        beta1: Float = 0.9, beta2: Float = 0.999, batchSize: Int, iterations: Int, stepSize: Int,
        stepFactor: Float = 0.5, clipNorm: Float? = nil, evaluateEvery: Int = 0, checkpointEvery: Int = 0,
        seed: UInt64 = 0, loss: LossKind? = nil, targetScale: Float = 1, solver: SolverKind = .minibatch,
        tolerance: Double = 1e-6, preconditioner: PreconditionerKind = .none, probes: Int = 8,
        lbfgsMemory: Int = 10, autoWeightDecay: Bool = false, microBatches: Int = 1
    ) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.batchSize = batchSize
        self.iterations = iterations
        self.stepSize = stepSize
        self.stepFactor = stepFactor
        self.clipNorm = clipNorm
        self.evaluateEvery = evaluateEvery
        self.checkpointEvery = checkpointEvery
        self.seed = seed
        self.loss = loss
        self.targetScale = targetScale
        self.solver = solver
        self.tolerance = tolerance
        self.preconditioner = preconditioner
        self.probes = probes
        self.lbfgsMemory = lbfgsMemory
        self.autoWeightDecay = autoWeightDecay
        self.microBatches = microBatches
    }

    /// Keys added after the first release default when absent (checkpoints written before them); `wd` is a number
    /// or `auto`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        optimizer = try c.decode(OptimizerKind.self, forKey: .optimizer)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        if let text = try? c.decode(String.self, forKey: .weightDecay) {
            guard text == "auto" else {
                throw DecodingError.dataCorruptedError(
                    forKey: .weightDecay, in: c, debugDescription: "must be a number or auto, not '\(text)'")
            }
            (weightDecay, autoWeightDecay) = (0, true)
        } else {
            (weightDecay, autoWeightDecay) = (try c.decode(Float.self, forKey: .weightDecay), false)
        }
        momentum = try c.decode(Float.self, forKey: .momentum)
        beta1 = try c.decode(Float.self, forKey: .beta1)
        beta2 = try c.decode(Float.self, forKey: .beta2)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        iterations = try c.decode(Int.self, forKey: .iterations)
        stepSize = try c.decode(Int.self, forKey: .stepSize)
        stepFactor = try c.decode(Float.self, forKey: .stepFactor)
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm)
        evaluateEvery = try c.decode(Int.self, forKey: .evaluateEvery)
        checkpointEvery = try c.decode(Int.self, forKey: .checkpointEvery)
        seed = try c.decode(UInt64.self, forKey: .seed)
        loss = try c.decodeIfPresent(LossKind.self, forKey: .loss)
        targetScale = try c.decodeIfPresent(Float.self, forKey: .targetScale) ?? 1
        solver = try c.decodeIfPresent(SolverKind.self, forKey: .solver) ?? .minibatch
        tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? 1e-6
        preconditioner = try c.decodeIfPresent(PreconditionerKind.self, forKey: .preconditioner) ?? .none
        probes = try c.decodeIfPresent(Int.self, forKey: .probes) ?? 8
        lbfgsMemory = try c.decodeIfPresent(Int.self, forKey: .lbfgsMemory) ?? 10
        microBatches = try c.decodeIfPresent(Int.self, forKey: .microBatches) ?? 1
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(learningRate, forKey: .learningRate)
        if autoWeightDecay {
            try c.encode("auto", forKey: .weightDecay)
        } else {
            try c.encode(weightDecay, forKey: .weightDecay)
        }
        try c.encode(momentum, forKey: .momentum)
        try c.encode(beta1, forKey: .beta1)
        try c.encode(beta2, forKey: .beta2)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(iterations, forKey: .iterations)
        try c.encode(stepSize, forKey: .stepSize)
        try c.encode(stepFactor, forKey: .stepFactor)
        try c.encodeIfPresent(clipNorm, forKey: .clipNorm)
        try c.encode(evaluateEvery, forKey: .evaluateEvery)
        try c.encode(checkpointEvery, forKey: .checkpointEvery)
        try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(loss, forKey: .loss)
        try c.encode(targetScale, forKey: .targetScale)
        try c.encode(solver, forKey: .solver)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(preconditioner, forKey: .preconditioner)
        try c.encode(probes, forKey: .probes)
        try c.encode(lbfgsMemory, forKey: .lbfgsMemory)
        // Written only when set, so that runs without micro-batches keep the trajectories of earlier versions.
        if microBatches != 1 { try c.encode(microBatches, forKey: .microBatches) }
    }

    /// The paper's optimiser: Adam (β1 0.5, β2 0.999), lr 1e-3 halved every 20K iterations, wd 1e-6, batch 64.
    public static func paper(iterations: Int = 80_000, seed: UInt64 = 0) -> TrainingConfiguration {
        TrainingConfiguration(
            optimizer: .adam, learningRate: 1e-3, weightDecay: 1e-6, beta1: 0.5, beta2: 0.999,
            batchSize: 64, iterations: iterations, stepSize: 20_000, seed: seed)
    }

    /// The released code's default for the full model: SGD momentum 0.9, lr 0.1 halved every 10K, wd 5e-5,
    /// batch 128, gradient norm clipped at 10.
    public static func releasedCode(iterations: Int = 50_000, seed: UInt64 = 0) -> TrainingConfiguration {
        TrainingConfiguration(
            optimizer: .sgd, learningRate: 0.1, weightDecay: 5e-5, momentum: 0.9, batchSize: 128,
            iterations: iterations, stepSize: 10_000, clipNorm: 10, seed: seed)
    }

    /// The name of the paper's whole schedule as a preset: ``paper(iterations:seed:)`` at 80K iterations (lr halved
    /// every 20K) whatever a command's default length, with an evaluation and a checkpoint every 2,000 iterations.
    public static let paperFull = "paper-full"

    /// The presets by name, for the CLI: `iterations` is the command's default length, which `paper-full` replaces.
    public static func preset(_ name: String, iterations: Int? = nil, seed: UInt64 = 0) throws -> TrainingConfiguration
    {
        switch name {
        case "paper": return paper(iterations: iterations ?? 80_000, seed: seed)
        case paperFull:
            var configuration = paper(iterations: 80_000, seed: seed)
            configuration.evaluateEvery = 2_000
            configuration.checkpointEvery = 2_000
            return configuration
        case "released": return releasedCode(iterations: iterations ?? 50_000, seed: seed)
        default:
            throw GradFeatError.invalidConfiguration(
                "unknown optimiser preset '\(name)'; use 'paper', '\(paperFull)' or 'released'")
        }
    }

    public var schedule: StepSchedule { StepSchedule(base: learningRate, factor: stepFactor, stepSize: stepSize) }

    /// A fresh optimiser of the configured kind.
    public func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .adam: return Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        case .sgd: return SGD(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        }
    }

    /// Throws with the offending key when a value cannot work.
    public func validate() throws {
        func fail(_ message: String) throws { throw GradFeatError.invalidConfiguration(message) }
        if !(learningRate > 0 && learningRate.isFinite) {
            try fail("lr must be a positive number, got \(learningRate)")
        }
        if batchSize < 1 { try fail("batchsize must be at least 1, got \(batchSize)") }
        if !(1...batchSize).contains(microBatches) {
            try fail("micro_batches must be 1…batchsize (\(batchSize)), got \(microBatches)")
        }
        if iterations < 0 { try fail("niter must be non-negative, got \(iterations)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) {
            try fail("wd must be a non-negative number, got \(weightDecay)")
        }
        if let clipNorm, !(clipNorm > 0 && clipNorm.isFinite) {
            try fail("clip must be a positive number, got \(clipNorm)")
        }
        if stepSize < 0 {
            try fail(
                "stepsize must be non-negative (iterations between learning-rate steps; 0: constant), got \(stepSize)")
        }
        if !(stepFactor > 0 && stepFactor.isFinite) {
            try fail("stepfactor must be a positive number, got \(stepFactor)")
        }
        if !(momentum >= 0 && momentum < 1) { try fail("momentum must lie in [0, 1), got \(momentum)") }
        if !(beta1 >= 0 && beta1 < 1) { try fail("beta1 must lie in [0, 1), got \(beta1)") }
        if !(beta2 >= 0 && beta2 < 1) { try fail("beta2 must lie in [0, 1), got \(beta2)") }
        if evaluateEvery < 0 { try fail("eval_every must be non-negative (0: only at the end), got \(evaluateEvery)") }
        if checkpointEvery < 0 {
            try fail("checkpoint_every must be non-negative (0: only at the end), got \(checkpointEvery)")
        }
        if !(targetScale > 0 && targetScale.isFinite) {
            try fail("target_scale must be a positive number, got \(targetScale)")
        }
        if !(tolerance > 0 && tolerance < 1) { try fail("tol must lie strictly between 0 and 1, got \(tolerance)") }
        if !(1...1000).contains(probes) { try fail("probes must be from 1 to 1000, got \(probes)") }
        if !(1...1000).contains(lbfgsMemory) { try fail("lbfgs_memory must be from 1 to 1000, got \(lbfgsMemory)") }
        switch solver {
        case .cg:
            if loss != .mse {
                try fail(
                    "solver cg minimises the quadratic (MSE) objective, but the loss is "
                        + "\(loss?.rawValue ?? "cross-entropy (the default)"); add --loss mse, or use --solver lbfgs for "
                        + "cross-entropy")
            }
            if !autoWeightDecay && !(weightDecay > 0) {
                try fail(
                    "solver cg needs wd > 0: with more parameters than targets JᵀJ is singular and CG does not "
                        + "settle; pass --wd auto (chosen on held-out data) or a value such as --wd 1e-4")
            }
        case .lbfgs: break
        case .minibatch:
            if autoWeightDecay {
                try fail(
                    "wd auto chooses λ by solving on held-out data; it needs --solver cg or lbfgs (with --optim "
                        + "\(optimizer.rawValue) give a number)")
            }
        }
        if preconditioner == .jacobi && solver != .cg {
            try fail("preconditioner jacobi applies to --solver cg only, not \(solver.rawValue)")
        }
    }
}
