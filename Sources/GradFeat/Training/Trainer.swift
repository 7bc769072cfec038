import Cluster
import Foundation
import Layers
import Tensor

/// Trains a feature extractor with mini-batch SGD or Adam — seeded shuffling, a step schedule, gradient clipping —
/// or with a full-batch solver (conjugate gradient, L-BFGS: `Trainer+Solvers.swift`); either way with periodic
/// evaluation, checkpoints with exact resume, and a stop with a clear message when the loss diverges.
public struct Trainer: Sendable {
    public var configuration: TrainingConfiguration
    public var evaluator = Evaluator()
    /// Called with the state at every checkpoint (and at the end); write it to HDF5 with `CheckpointFile`.
    public var checkpoint: (@Sendable (TrainingState) throws -> Void)?
    public var quiet = false
    public var label = "train"
    /// Augments each training batch's images under the step's seed before the step (`--augment`), for every
    /// model alike; the mini-batch optimiser only — a full-batch solver fits one fixed training set.
    public var augmentation: Augmentation?
    /// Called at each evaluation with the step and its scalars — `train/loss`, `train/lr`, `train/images_per_s`,
    /// `test/<accuracy|mAP>`, `test/loss`; a full-batch solver's `solver/objective`, `solver/residual` — for
    /// TensorBoard (`TensorBoardEvents`).
    public var onScalars: (@Sendable (_ step: Int, _ scalars: [(tag: String, value: Double)]) throws -> Void)?
    /// The processes that share every step (one by default; under `mpirun`, `Cluster.world()`'s ranks), each
    /// computing its share of the configuration's micro-batches (`Trainer+MicroBatches.swift`).
    public var communicator: any Communicator = SingleProcess()

    public init(configuration: TrainingConfiguration) { self.configuration = configuration }

    /// Trains `extractor` in place and returns the evaluations. With `resume`, continues that state's run: the
    /// result is bit-identical to a run that was never interrupted.
    @discardableResult
    public func train(
        _ extractor: inout any FeatureExtractor, on train: some BatchSource, evaluateOn test: (any BatchSource)? = nil,
        loss: any Loss, resume: TrainingState? = nil
    ) throws -> [EvaluationRecord] {
        try configuration.validate()
        let order = BatchOrder(count: train.count, batchSize: configuration.batchSize, seed: configuration.seed)
        var optimizer = configuration.makeOptimizer()
        var rng = SeededRandom(seed: configuration.seed ^ 0xD1CE)
        var history: [EvaluationRecord] = []
        var start = 0
        if configuration.solver != .minibatch {
            if let augmentation {
                throw GradFeatError.invalidConfiguration(
                    "--augment \(augmentation) draws new images every step, but solver \(configuration.solver.rawValue) "
                        + "fits one fixed training set; train with the mini-batch optimiser (--solver minibatch) or drop --augment"
                )
            }
            guard configuration.microBatches == 1, communicator.size == 1 else {
                throw GradFeatError.invalidConfiguration(
                    "solver \(configuration.solver.rawValue) runs in one process without micro-batches; train with "
                        + "--solver minibatch, or run it without mpirun and --micro-batches")
            }
            return try solve(&extractor, on: train, evaluateOn: test, loss: loss, resume: resume)
        }
        if let resume {
            try check(resume, for: extractor)
            extractor.parameters = resume.parameters
            optimizer.state = resume.optimizerState
            optimizer.step = resume.optimizerStep
            rng = try SeededRandom(state: resume.randomState)
            history = resume.history
            start = resume.iteration
        }
        let microBatched = configuration.microBatches > 1 || communicator.size > 1
        if microBatched { try checkMicroBatching(extractor, examples: train.count) }
        let progress = ProgressReporter(label, total: configuration.iterations, start: start, quiet: quiet)
        let clock = Date()
        var runningLoss = 0.0, runningCount = 0
        var cursor = BatchCursor(order)
        /// The rows this process computes at `iteration`: the whole batch, or its micro-batches' rows.
        func indices(_ iteration: Int) -> [Int] {
            let batch = cursor.indices(iteration)
            return microBatched ? microBatchLayout(of: batch).rows : batch
        }
        let prefetcher = BatchPrefetcher(train)
        var lastScalars = (iteration: start, seconds: 0.0)

        func state(_ iteration: Int) -> TrainingState {
            TrainingState(
                iteration: iteration, parameters: extractor.parameters, parameterNames: extractor.parameterNames,
                optimizerState: optimizer.state, optimizerStep: optimizer.step, randomState: rng.stateWords,
                configuration: configuration, history: history)
        }

        for iteration in start..<configuration.iterations {
            var (inputs, targets) = try prefetcher.batch(
                indices(iteration),
                thenPrefetch: iteration + 1 < configuration.iterations ? indices(iteration + 1) : nil)

            let mode = Mode.training(seed: rng.next())
            optimizer.learningRate = configuration.schedule.learningRate(at: iteration)
            let value: Double
            if microBatched {
                value = try microBatchedStep(
                    &extractor, inputs: inputs, targets: targets,
                    layout: microBatchLayout(of: cursor.indices(iteration)),
                    loss: loss, optimizer: &optimizer, mode: mode, iteration: iteration)
            } else {
                if let augmentation { inputs = try augmentation.apply(to: inputs, seed: mode.seed) }
                value = try Trainer.step(
                    &extractor, inputs: inputs, targets: targets, loss: loss, optimizer: &optimizer,
                    clipNorm: configuration.clipNorm, mode: mode, iteration: iteration)
            }

            runningLoss += value
            runningCount += 1
            let done = iteration + 1
            progress.update(
                done, values: [("loss", Double(value)), ("lr", Double(optimizer.learningRate))],
                itemsPerUnit: Double(order.batchSize), itemName: "img")
            let evaluateNow =
                done == configuration.iterations
                || (configuration.evaluateEvery > 0 && done % configuration.evaluateEvery == 0)
            if evaluateNow {
                let metrics = try test.map { try evaluator.evaluate(extractor, on: $0, loss: loss) }
                history.append(
                    EvaluationRecord(
                        iteration: done, trainLoss: runningLoss / Double(max(runningCount, 1)), testLoss: metrics?.loss,
                        testMetric: metrics?.headline, learningRate: optimizer.learningRate,
                        seconds: Date().timeIntervalSince(clock)))
                (runningLoss, runningCount) = (0, 0)
                if let onScalars, let record = history.last {
                    let scalars: [(tag: String, value: Double)] = [
                        ("train/loss", record.trainLoss), ("train/lr", Double(record.learningRate)),
                        (
                            "train/images_per_s",
                            Double((done - lastScalars.iteration) * order.batchSize)
                                / max(record.seconds - lastScalars.seconds, 1e-9)
                        ),
                    ]
                    try onScalars(done, scalars + Self.testScalars(metrics))
                    lastScalars = (done, record.seconds)
                }
                if let metrics, let record = history.last {
                    progress.log(
                        String(
                            format: "%@ iteration %d: train loss %.4f, test %@ %.2f%%", label, done,
                            record.trainLoss, metrics.headlineName, 100 * metrics.headline),
                        event: .evaluation,
                        values: [("step", Double(done)), ("train_loss", record.trainLoss)] + Self.testValues(metrics))
                }
            }
            let checkpointNow =
                done == configuration.iterations
                || (configuration.checkpointEvery > 0 && done % configuration.checkpointEvery == 0)
            if checkpointNow, let checkpoint { try checkpoint(state(done)) }
        }
        return history
    }
}

extension Trainer {
    /// `test/<accuracy|mAP>` and `test/loss` of an evaluation, for `onScalars`.
    static func testScalars(_ metrics: Metrics?) -> [(tag: String, value: Double)] {
        guard let metrics else { return [] }
        return [("test/\(metrics.headlineName)", metrics.headline)] + (metrics.loss.map { [("test/loss", $0)] } ?? [])
    }

    /// The same values named for a log record (`test_accuracy`, `test_loss`).
    static func testValues(_ metrics: Metrics?) -> [(name: String, value: Double)] {
        testScalars(metrics).map { ($0.tag.replacingOccurrences(of: "/", with: "_"), $0.value) }
    }

    /// Throws, naming what differs, unless `resume` continues this configuration's run of `extractor`: how long
    /// and how often may change (`--resume --niter 20000`); what decides the steps may not.
    func check(_ resume: TrainingState, for extractor: any FeatureExtractor) throws {
        if let differences = try Trajectory(of: configuration).differences(
            from: Trajectory(of: resume.configuration), mine: "this run", theirs: "the checkpoint")
        {
            throw GradFeatError.checkpointMismatch("\(differences); resume with the options it was trained with")
        }
        guard resume.iteration <= configuration.iterations else {
            throw GradFeatError.checkpointMismatch(
                "it has completed \(resume.iteration) iterations, more than this run's niter \(configuration.iterations); "
                    + "pass --niter \(resume.iteration) or more to continue it")
        }
        guard resume.parameterNames == extractor.parameterNames,
            zip(resume.parameters, extractor.parameters).allSatisfy({ $0.shape == $1.shape })
        else {
            throw GradFeatError.checkpointMismatch(
                "its parameters (\(resume.parameterNames.prefix(4).joined(separator: ", "))…) are not this extractor's")
        }
        guard (resume.solverState != nil) == (configuration.solver != .minibatch) else {
            throw GradFeatError.checkpointMismatch(
                "it was written by \(resume.solverState == nil ? "a mini-batch optimiser" : "a full-batch solver"), "
                    + "this run uses solver \(configuration.solver.rawValue); resume with the options it was trained with"
            )
        }
    }

    /// One optimisation step on a batch: forward pass, loss, parameter gradients (clipped, or checked to be finite),
    /// the optimiser's in-place update at its current learning rate, and the extractor's statistics. Returns the
    /// batch loss. `train` runs exactly this at every iteration; `StepBenchmark` times it.
    public static func step<Extractor: FeatureExtractor>(
        _ extractor: inout Extractor, inputs: Tensor, targets: Targets, loss: any Loss,
        optimizer: inout any Optimizer, clipNorm: Float?, mode: Mode, iteration: Int
    ) throws -> Double {
        let (output, value, gradients) = try divergenceChecked(iteration: iteration) {
            let output = try extractor.forward(inputs, mode: mode)
            let evaluated = try loss.evaluate(logits: output.logits, targets: targets)
            return (
                output, evaluated.loss, try extractor.parameterGradients(output, logitsGradient: evaluated.gradient)
            )
        }
        try apply(gradients, to: &extractor, optimizer: &optimizer, clipNorm: clipNorm, iteration: iteration)
        extractor.updateStatistics(output)
        return value
    }

    /// The optimiser's update of `extractor`'s parameters by `gradients`, clipped to `clipNorm` or checked to be
    /// finite; a parameter that leaves the finite numbers stops the run.
    static func apply<Extractor: FeatureExtractor>(
        _ gradients: [Tensor], to extractor: inout Extractor, optimizer: inout any Optimizer, clipNorm: Float?,
        iteration: Int
    ) throws {
        var gradients = gradients
        try divergenceChecked(iteration: iteration) {
            if let clipNorm {
                try clipGradientNorm(&gradients, maxNorm: clipNorm)
            } else if !gradients.allSatisfy(\.isFinite) {
                throw TensorError.nonFinite(what: "a gradient")
            }
        }
        try extractor.updateParameters { parameters in
            try optimizer.update(&parameters, gradients: gradients)
            guard parameters.allSatisfy(\.isFinite) else {
                throw GradFeatError.diverged(iteration: iteration, detail: "a parameter became NaN or infinite")
            }
        }
    }

    /// `body`'s result, with a non-finite tensor reported as the run diverging at `iteration`.
    @discardableResult
    static func divergenceChecked<T>(iteration: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TensorError {
            if case .nonFinite = error {
                throw GradFeatError.diverged(iteration: iteration, detail: error.description)
            }
            throw error
        }
    }
}
