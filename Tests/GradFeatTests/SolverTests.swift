import Foundation
import GradFeat
import Layers
import Tensor
import TestSupport
import Testing

/// The full-batch solvers against closed forms and against long Adam runs (`Trainer+Solvers.swift`).
@Suite struct SolverTests {
    /// Cached activations of the small network at `block`, labelled by a random linear teacher on the features.
    static func data(_ n: Int = 24, seed: UInt64 = 3) throws -> (train: InMemoryBatches, network: Network) {
        let network = GradFeatModelTests.smallNetwork()
        let x = GradFeatModelTests.input(n, seed: seed)
        let z0 = try network.bottom(x, splitAt: "block")
        let features = try network.backbone.forward(x, mode: .evaluation)
        var rng = SeededRandom(seed: seed + 1)
        let teacher = Tensor.normal([features.shape[1], 3], using: &rng)
        let labels = (0..<n).map { row -> Int in
            let scores = (0..<3).map { k in
                (0..<features.shape[1]).reduce(Float(0)) {
                    $0 + features.scalars[row * features.shape[1] + $1] * teacher.scalars[$1 * 3 + k]
                }
            }
            return scores.indices.max { scores[$0] < scores[$1] }!
        }
        return (try InMemoryBatches(inputs: z0, targets: .classes(labels), classCount: 3), network)
    }

    static func context(_ network: Network, parametrization: Parametrization = .standard) -> ExtractorContext {
        ExtractorContext(
            network: network, split: "block", linearize: ["conv3"], classes: 3, omegaBar: network.head,
            seed: 5, parametrization: parametrization)
    }

    static func solverConfiguration(
        _ solver: TrainingConfiguration.SolverKind, loss: TrainingConfiguration.LossKind = .mse, wd: Float = 0.05,
        iterations: Int = 400, tolerance: Double = 1e-9
    ) -> TrainingConfiguration {
        TrainingConfiguration(
            optimizer: .adam, learningRate: 1e-3, weightDecay: wd, batchSize: 8, iterations: iterations,
            stepSize: 0, seed: 2, loss: loss, solver: solver, tolerance: tolerance)
    }

    static func fit(
        _ name: String, _ configuration: TrainingConfiguration, train: InMemoryBatches, network: Network,
        resume: TrainingState? = nil, checkpoint: (@Sendable (TrainingState) throws -> Void)? = nil
    ) throws -> (extractor: any FeatureExtractor, history: [EvaluationRecord]) {
        var extractor = try ExtractorRegistry.shared.make(name, context: context(network))
        var trainer = Trainer(configuration: configuration)
        trainer.quiet = true
        trainer.checkpoint = checkpoint
        let history = try trainer.train(
            &extractor, on: train, evaluateOn: train, loss: try configuration.makeLoss(for: train), resume: resume)
        return (extractor, history)
    }

    /// Solves `(XᵀX/N + λ) w = Xᵀy/N` for every column of y in Float64.
    static func ridge(_ x: [[Double]], _ y: [[Double]], lambda: Double) -> [[Double]] {
        let (n, p, c) = (Double(x.count), x[0].count, y[0].count)
        let a = (0..<p).map { i in (0..<p).map { j in x.reduce(0) { $0 + $1[i] * $1[j] } / n + (i == j ? lambda : 0) } }
        let b = (0..<p).map { i in (0..<c).map { k in zip(x, y).reduce(0) { $0 + $1.0[i] * $1.1[k] } / n } }
        return solveLinearSystem(a, b)
    }

    static func oneHot(_ targets: Targets, classes: Int) -> [[Double]] {
        guard case let .classes(labels) = targets else { return [] }
        return labels.map { label in (0..<classes).map { $0 == label ? 1 : 0 } }
    }

    static func relative(_ a: [Double], _ b: [Double]) -> Double {
        let difference = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return (difference / max(b.reduce(0) { $0 + $1 * $1 }, 1e-30)).squareRoot()
    }

    /// The activation model's ridge regression on `[f, 1]`: the CG solution equals the closed form.
    @Test func conjugateGradientOnActivationsIsRidgeRegression() throws {
        let (train, network) = try Self.data()
        let lambda = 0.05
        let (extractor, _) = try Self.fit(
            "activation", Self.solverConfiguration(.cg, wd: Float(lambda)),
            train: train, network: network)
        guard let activation = extractor as? ActivationFeatures else {
            Issue.record("not the activation model"); return
        }
        let f = try activation.features(train.inputs)
        let d = f.shape[1]
        let rows = (0..<train.count).map { n in (0..<d).map { Double(f.scalars[n * d + $0]) } + [1] }
        let solution = Self.ridge(rows, Self.oneHot(train.targets, classes: 3), lambda: lambda)
        // Stored (standard parametrization): weight [c, d] then bias [c].
        let expected = (0..<3).flatMap { k in (0..<d).map { solution[$0][k] } } + (0..<3).map { solution[d][$0] }
        let got = ParameterVector(activation.parameters).values
        #expect(Self.relative(got, expected) < 1e-5, "relative error \(Self.relative(got, expected))")
    }

    /// The gradient model's CG solution equals ridge regression on its explicit gradient features `ω̄ᵀJ(x)`.
    @Test func conjugateGradientOnGradientFeaturesIsRidgeRegression() throws {
        let (train, network) = try Self.data(12)
        let lambda = 0.05
        let (extractor, history) = try Self.fit(
            "gradient", Self.solverConfiguration(.cg, wd: Float(lambda)),
            train: train, network: network)
        let explicit = ExplicitGradientFeatures(
            top: try LinearizedTop(try network.top(splitAt: "block"), linearize: ["conv3"]), omegaBar: network.head)
        let g = try explicit.gradientFeatures(train.inputs) // [N, c, p]
        let (n, c, p) = (g.shape[0], g.shape[1], g.shape[2])
        // Rows (n, k) of G with target onehot[n][k]: ridge over the N·c rows, scaled to the objective's 1/N.
        let rows = (0..<(n * c)).map { r in (0..<p).map { Double(g.scalars[r * p + $0]) } }
        let targets = Self.oneHot(train.targets, classes: c).flatMap { $0 }.map { [$0] }
        // The kernel form (N·c unknowns): w = Gᵀ (G Gᵀ / N + λ)⁻¹ y / N.
        let gram = (0..<(n * c)).map { i in
            (0..<(n * c)).map { j in zip(rows[i], rows[j]).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        let dual = solveLinearSystem(
            gram.enumerated().map { i, row in
                row.enumerated().map { $0.element / Double(n) + ($0.offset == i ? lambda : 0) }
            },
            targets.map { [$0[0] / Double(n)] }
        ).map { $0[0] }
        let expected = (0..<p).map { j in (0..<(n * c)).reduce(0) { $0 + rows[$1][j] * dual[$1] } }
        let got = ParameterVector(extractor.parameters).values
        #expect(Self.relative(got, expected) < 1e-5, "relative error \(Self.relative(got, expected))")
        #expect(history.last.map { $0.iteration < 400 } == true, "CG did not reach the tolerance")
    }

    /// `uᵀAv = vᵀAu` and `vᵀAv > 0` for the Gauss–Newton operator of the full model.
    @Test(arguments: Parametrization.allCases)
    func gaussNewtonOperatorIsSymmetricPositiveDefinite(parametrization: Parametrization) throws {
        let (train, network) = try Self.data()
        let model = try GradFeatFeatures(
            network: network, splitAt: "block", linearize: ["conv3"],
            omegaBar: network.head, parametrization: parametrization)
        let objective = FullBatchObjective(data: train, loss: OneHotMeanSquaredError(), weightDecay: 1e-3, chunkSize: 7)
        var rng = SeededRandom(seed: 9)
        let u = ParameterVector(model.parameters.map { Tensor.normal($0.shape, using: &rng) })
        let v = ParameterVector(model.parameters.map { Tensor.normal($0.shape, using: &rng) })
        let au = try objective.gaussNewtonProduct(model, u), av = try objective.gaussNewtonProduct(model, v)
        let (uAv, vAu) = (u.dot(av), v.dot(au))
        #expect(abs(uAv - vAu) <= 1e-5 * max(abs(uAv), abs(vAu)), "uᵀAv \(uAv), vᵀAu \(vAu)")
        #expect(v.dot(av) > 1e-3 * v.squaredNorm, "vᵀAv \(v.dot(av)) is not above λ‖v‖²")
        // A v against the difference of gradients of the quadratic objective: A v = ∇L(w + v) − ∇L(w).
        let zero = ParameterVector.zeros(like: model.parameters)
        let (_, g0) = try objective.valueAndGradient(model, at: zero)
        var (_, gv) = try objective.valueAndGradient(model, at: v)
        gv.add(g0, scaledBy: -1)
        #expect(
            Self.relative(gv.values, av.values) < 1e-4, "A v vs ∇L(v) − ∇L(0): \(Self.relative(gv.values, av.values))")
    }

    /// CG's objective is below what a long Adam run on the same MSE objective reaches.
    @Test func conjugateGradientBeatsALongAdamRunOnTheMSEObjective() throws {
        let (train, network) = try Self.data()
        let configuration = Self.solverConfiguration(.cg, wd: 1e-2)
        let (solved, _) = try Self.fit("gradfeat", configuration, train: train, network: network)
        var adamConfiguration = TrainingConfiguration(
            optimizer: .adam, learningRate: 1e-2, weightDecay: 1e-2, batchSize: train.count, iterations: 3000,
            stepSize: 1000, seed: 2, loss: .mse)
        adamConfiguration.evaluateEvery = 0
        let (adam, _) = try Self.fit("gradfeat", adamConfiguration, train: train, network: network)
        let objective = FullBatchObjective(data: train, loss: OneHotMeanSquaredError(), weightDecay: 1e-2)
        let cgValue = try objective.value(of: solved)
        let adamValue = try objective.value(of: adam)
        #expect(cgValue <= adamValue, "CG objective \(cgValue), Adam \(adamValue)")
        let initialValue = try objective.value(
            of: try ExtractorRegistry.shared.make("gradfeat", context: Self.context(network)))
        #expect(cgValue < 0.99 * initialValue, "CG did not lower the objective from \(initialValue)")
    }

    /// L-BFGS lowers the cross-entropy objective at every iteration and reaches what a long Adam run reaches.
    @Test func lbfgsDescendsMonotonicallyAndMatchesALongAdamRun() throws {
        let (train, network) = try Self.data(30)
        let lambda = 1e-2
        let model = try ActivationFeatures(
            network: network, splitAt: "block", classes: 3, seed: 5,
            parametrization: .standard)
        let objective = FullBatchObjective(data: train, loss: SoftmaxCrossEntropy(), weightDecay: lambda, chunkSize: 8)
        let solver = LBFGSSolver(extractor: model, objective: objective, tolerance: 1e-9, memory: 10)
        var (state, step) = try solver.start(at: ParameterVector(model.parameters))
        var values = [step.objective]
        for iteration in 0..<200 where !step.converged {
            step = try solver.iterate(&state, iteration: iteration)
            values.append(step.objective)
        }
        #expect(zip(values, values.dropFirst()).allSatisfy { $1 <= $0 }, "the objective rose: \(values.prefix(12))")

        var adamConfiguration = TrainingConfiguration(
            optimizer: .adam, learningRate: 3e-2, weightDecay: Float(lambda), batchSize: train.count, iterations: 6000,
            stepSize: 1500, seed: 2, loss: .ce)
        adamConfiguration.evaluateEvery = 0
        var adam: any FeatureExtractor = model
        var trainer = Trainer(configuration: adamConfiguration)
        trainer.quiet = true
        try trainer.train(&adam, on: train, loss: SoftmaxCrossEntropy())
        let adamValue = try objective.value(of: adam)
        #expect(abs(step.objective - adamValue) <= 1e-3 * abs(adamValue), "L-BFGS \(step.objective), Adam \(adamValue)")
        var fitted = model
        fitted.parameters = solver.parameters(of: state).tensors
        let evaluator = Evaluator()
        let lbfgsAccuracy = try evaluator.evaluate(fitted, on: train, loss: SoftmaxCrossEntropy()).accuracy ?? 0
        let adamAccuracy = try evaluator.evaluate(adam, on: train, loss: SoftmaxCrossEntropy()).accuracy ?? 0
        #expect(
            abs(lbfgsAccuracy - adamAccuracy) <= 0.005 + 1.0 / Double(train.count),
            "accuracy: L-BFGS \(lbfgsAccuracy), Adam \(adamAccuracy)")
    }

    final class Box: Sendable { let states = Locked<[TrainingState]>([]) }

    /// A solve stopped at a checkpoint and resumed from the file ends bit-identical to one never stopped.
    @Test(arguments: [TrainingConfiguration.SolverKind.cg, .lbfgs])
    func resumedSolveIsBitIdentical(solver: TrainingConfiguration.SolverKind) throws {
        let (train, network) = try Self.data()
        var configuration = Self.solverConfiguration(solver, wd: 1e-3, iterations: 12, tolerance: 1e-12)
        configuration.checkpointEvery = 5
        if solver == .cg { configuration.preconditioner = .jacobi; configuration.probes = 2 }
        let box = Box()
        let (straight, straightHistory) = try Self.fit(
            "gradfeat", configuration, train: train, network: network,
            checkpoint: { state in box.states.withLock { $0.append(state) } })
        let saved = box.states.withLock { $0 }
        #expect(saved.map(\.iteration) == [5, 10, 12])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gradfeat-solver-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try CheckpointFile.save(saved[0], extractor: "gradfeat", to: url)
        let loaded = try CheckpointFile.load(url).state
        #expect(loaded.solverState == saved[0].solverState)
        let (resumed, resumedHistory) = try Self.fit(
            "gradfeat", configuration, train: train, network: network,
            resume: loaded)
        #expect(resumed.parameters == straight.parameters)
        #expect(resumedHistory.map(\.trainLoss) == straightHistory.map(\.trainLoss))
    }

    /// A CG solve stopped at a loose tolerance and resumed with a tighter one ends where a run with the tighter one
    /// ends, bit for bit.
    @Test func resumingWithATighterToleranceContinuesTheSolve() throws {
        let (train, network) = try Self.data()
        let loose = Self.solverConfiguration(.cg, wd: 1e-3, iterations: 15, tolerance: 0.2)
        let box = Box()
        let (_, looseHistory) = try Self.fit(
            "gradfeat", loose, train: train, network: network,
            checkpoint: { state in box.states.withLock { $0.append(state) } })
        let stopped = try #require(box.states.withLock { $0.last })
        #expect(stopped.iteration < 15, "the loose solve did not stop early: \(looseHistory.map(\.iteration))")
        let tight = Self.solverConfiguration(.cg, wd: 1e-3, iterations: 15, tolerance: 1e-12)
        let (straight, straightHistory) = try Self.fit("gradfeat", tight, train: train, network: network)
        let (resumed, history) = try Self.fit("gradfeat", tight, train: train, network: network, resume: stopped)
        #expect(resumed.parameters == straight.parameters)
        #expect(history.last?.iteration == straightHistory.last?.iteration)
        #expect(history.last.map { $0.iteration > stopped.iteration } == true)
    }

    @Test func badSolverOptionsAreRefusedBeforeTraining() throws {
        let (train, network) = try Self.data()
        func message(_ configuration: TrainingConfiguration, _ name: String = "gradfeat") -> String {
            do {
                _ = try Self.fit(name, configuration, train: train, network: network)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(message(Self.solverConfiguration(.cg, loss: .ce)).contains("--loss mse"))
        #expect(message(Self.solverConfiguration(.cg, wd: 0)).contains("wd > 0"))
        #expect(message(Self.solverConfiguration(.cg), "finetune").contains("linear in its parameters"))
        var auto = Self.solverConfiguration(.minibatch)
        auto.autoWeightDecay = true
        #expect(message(auto).contains("--solver cg or lbfgs"))
        var jacobi = Self.solverConfiguration(.lbfgs)
        jacobi.preconditioner = .jacobi
        #expect(message(jacobi).contains("cg only"))

        // The comparison refuses fine-tuning under CG before it trains (and writes) the activation model.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-cg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var comparison = Comparison(
            network: network, split: "block", linearize: ["conv3"],
            extractors: ["activation", "finetune"],
            configurations: ["activation": Self.solverConfiguration(.cg)], quiet: true)
        comparison.checkpointDirectory = folder
        #expect(throws: GradFeatError.self) {
            try comparison.run(train: train, test: train, loss: SoftmaxCrossEntropy())
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("activation.h5").path))
    }

    /// `wd: auto` picks a λ of the grid on held-out data and records it in the solver state.
    @Test func automaticWeightDecayIsChosenAndRecorded() throws {
        let (train, network) = try Self.data(40)
        var configuration = Self.solverConfiguration(.cg, iterations: 30, tolerance: 1e-6)
        configuration.autoWeightDecay = true
        let box = Box()
        _ = try Self.fit(
            "activation", configuration, train: train, network: network,
            checkpoint: { state in box.states.withLock { $0.append(state) } })
        let lambda = box.states.withLock { $0.last?.solverState?.numbers["lambda"] }
        #expect(lambda.map { Trainer.weightDecayGrid.contains($0) } == true, "λ = \(String(describing: lambda))")
    }

    /// The MSE loss's value and gradient against their definition, with difficult entries masked.
    @Test func oneHotMeanSquaredErrorMatchesItsDefinition() throws {
        let logits = try Tensor(shape: [2, 3], scalars: [0.5, -1, 2, 0, 1, 3])
        let loss = OneHotMeanSquaredError(targetScale: 2)
        let single = try loss.evaluate(logits: logits, targets: .classes([2, 0]))
        // Targets [0, 0, 2] and [2, 0, 0]: ½ · (0.25 + 1 + 0 + 4 + 1 + 9) / 2.
        #expect(abs(single.loss - 0.5 * 15.25 / 2) < 1e-6)
        #expect(single.gradient.scalars == [0.25, -0.5, 0, -1, 0.5, 1.5])
        let multi = try loss.evaluate(logits: logits, targets: .multiLabel(flags: [1, 0, -1, 0, 1, 1], classCount: 3))
        // Targets [2, 0, ·] and [0, 2, 2], the difficult entry left out: ½ · (2.25 + 1 + 0 + 1 + 1) / 2.
        #expect(abs(multi.loss - 0.5 * 5.25 / 2) < 1e-6)
        #expect(multi.gradient.scalars[2] == 0)
    }
}
