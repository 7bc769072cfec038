import Layers

/// Everything that decides a training run; saved beside its results and in its checkpoints.
/// Keys follow the released PyTorch code where it has one (`batchsize`, `optim`, `lr`, `wd`, `niter`, `stepsize`);
/// `init(contentsOf:over:)` reads them from a JSON or YAML file.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable { case adam, sgd }

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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case optimizer = "optim", learningRate = "lr", weightDecay = "wd", momentum, beta1, beta2
        case batchSize = "batchsize", iterations = "niter", stepSize = "stepsize", stepFactor = "stepfactor"
        case clipNorm = "clip", evaluateEvery = "eval_every", checkpointEvery = "checkpoint_every", seed
    }

    public init(optimizer: OptimizerKind, learningRate: Float, weightDecay: Float, momentum: Float = 0.9,
                beta1: Float = 0.9, beta2: Float = 0.999, batchSize: Int, iterations: Int, stepSize: Int,
                stepFactor: Float = 0.5, clipNorm: Float? = nil, evaluateEvery: Int = 0, checkpointEvery: Int = 0,
                seed: UInt64 = 0) {
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
    }

    /// The paper's optimiser: Adam (β1 0.5, β2 0.999), lr 1e-3 halved every 20K iterations, wd 1e-6, batch 64.
    public static func paper(iterations: Int = 80_000, seed: UInt64 = 0) -> TrainingConfiguration {
        TrainingConfiguration(optimizer: .adam, learningRate: 1e-3, weightDecay: 1e-6, beta1: 0.5, beta2: 0.999,
                              batchSize: 64, iterations: iterations, stepSize: 20_000, seed: seed)
    }

    /// The released code's default for the full model: SGD momentum 0.9, lr 0.1 halved every 10K, wd 5e-5,
    /// batch 128, gradient norm clipped at 10.
    public static func releasedCode(iterations: Int = 50_000, seed: UInt64 = 0) -> TrainingConfiguration {
        TrainingConfiguration(optimizer: .sgd, learningRate: 0.1, weightDecay: 5e-5, momentum: 0.9, batchSize: 128,
                              iterations: iterations, stepSize: 10_000, clipNorm: 10, seed: seed)
    }

    /// The presets by name, for the CLI.
    public static func preset(_ name: String, iterations: Int? = nil, seed: UInt64 = 0) throws -> TrainingConfiguration {
        switch name {
        case "paper": return paper(iterations: iterations ?? 80_000, seed: seed)
        case "released": return releasedCode(iterations: iterations ?? 50_000, seed: seed)
        default:
            throw GradFeatError.invalidConfiguration("unknown optimiser preset '\(name)'; use 'paper' or 'released'")
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
        if !(learningRate > 0 && learningRate.isFinite) { try fail("lr must be a positive number, got \(learningRate)") }
        if batchSize < 1 { try fail("batchsize must be at least 1, got \(batchSize)") }
        if iterations < 0 { try fail("niter must be non-negative, got \(iterations)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { try fail("wd must be a non-negative number, got \(weightDecay)") }
        if let clipNorm, !(clipNorm > 0 && clipNorm.isFinite) { try fail("clip must be a positive number, got \(clipNorm)") }
        if stepSize < 0 { try fail("stepsize must be non-negative (iterations between learning-rate steps; 0: constant), got \(stepSize)") }
        if !(stepFactor > 0 && stepFactor.isFinite) { try fail("stepfactor must be a positive number, got \(stepFactor)") }
        if !(momentum >= 0 && momentum < 1) { try fail("momentum must lie in [0, 1), got \(momentum)") }
        if !(beta1 >= 0 && beta1 < 1) { try fail("beta1 must lie in [0, 1), got \(beta1)") }
        if !(beta2 >= 0 && beta2 < 1) { try fail("beta2 must lie in [0, 1), got \(beta2)") }
        if evaluateEvery < 0 { try fail("eval_every must be non-negative (0: only at the end), got \(evaluateEvery)") }
        if checkpointEvery < 0 {
            try fail("checkpoint_every must be non-negative (0: only at the end), got \(checkpointEvery)")
        }
    }
}
