import Tensor

/// Everything needed to continue a run exactly where it stopped: written to checkpoints.
public struct TrainingState: Sendable, Equatable {
    /// Iterations completed.
    public var iteration: Int
    /// The extractor's parameters (as stored) and their names.
    public var parameters: [Tensor]
    public var parameterNames: [String]
    public var optimizerState: [Tensor]
    public var optimizerStep: Int
    /// The trainer's random generator (dropout and augmentation seeds).
    public var randomState: [UInt64]
    public var configuration: TrainingConfiguration
    /// The evaluations so far, so a resumed run's `metrics.csv` is whole.
    public var history: [EvaluationRecord]
    /// The run's keys that decided these parameters (nil in checkpoints written before GradFeat recorded them).
    public var trajectory: Trajectory?
    /// A full-batch solver's state (nil for the mini-batch optimisers, whose state is `optimizerState`).
    public var solverState: SolverState?

    public init(
        iteration: Int, parameters: [Tensor], parameterNames: [String], optimizerState: [Tensor],
        optimizerStep: Int, randomState: [UInt64], configuration: TrainingConfiguration,
        history: [EvaluationRecord], trajectory: Trajectory? = nil, solverState: SolverState? = nil
    ) {
        self.iteration = iteration
        self.parameters = parameters
        self.parameterNames = parameterNames
        self.optimizerState = optimizerState
        self.optimizerStep = optimizerStep
        self.randomState = randomState
        self.configuration = configuration
        self.history = history
        self.trajectory = trajectory
        self.solverState = solverState
    }

    /// The number of classes of the extractor's head (`fc.weight`'s rows), when its parameters include one.
    public var headClassCount: Int? {
        guard let index = parameterNames.firstIndex(of: "fc.weight"), parameters.indices.contains(index),
            parameters[index].shape.rank == 2
        else { return nil }
        return parameters[index].shape[0]
    }
}

/// One evaluation during training.
public struct EvaluationRecord: Sendable, Codable, Equatable {
    public var iteration: Int
    public var trainLoss: Double
    public var testLoss: Double?
    /// Accuracy (single-label) or mAP (multi-label) on the evaluation set.
    public var testMetric: Double?
    public var learningRate: Float
    public var seconds: Double
    /// Passes over the training set so far (full-batch solvers; nil for the mini-batch optimisers, whose count is
    /// iterations × batch / N).
    public var passes: Int?

    public init(
        iteration: Int, trainLoss: Double, testLoss: Double?, testMetric: Double?, learningRate: Float,
        seconds: Double, passes: Int? = nil
    ) {
        self.iteration = iteration
        self.trainLoss = trainLoss
        self.testLoss = testLoss
        self.testMetric = testMetric
        self.learningRate = learningRate
        self.seconds = seconds
        self.passes = passes
    }
}
