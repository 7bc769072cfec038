import Foundation
import GradFeat
import Layers
import Tensor
import TestSupport
import Testing

/// Leave-one-out attribution against brute force: the ridge problem re-solved without each training sample.
@Suite struct AttributionTests {
    /// `J` of a model linear in its stored parameters, by columns: the logits with the parameters set to each unit
    /// vector (independent of `jacobianRows`). `[N][c][p]`.
    static func jacobian(_ model: some LinearInParameters, _ inputs: Tensor) throws -> [[[Double]]] {
        let template = ParameterVector(model.parameters)
        let (n, p) = (inputs.shape[0], template.count)
        var probe = model
        var result: [[[Double]]] = []
        for m in 0..<p {
            var unit = ParameterVector.zeros(like: model.parameters)
            unit.values[m] = 1
            probe.parameters = unit.tensors
            let logits = try probe.forward(inputs, mode: .evaluation).logits
            let c = logits.shape[1]
            if result.isEmpty {
                result = Array(repeating: Array(repeating: Array(repeating: 0, count: p), count: c), count: n)
            }
            for i in 0..<n { for k in 0..<c { result[i][k][m] = Double(logits.scalars[i * c + k]) } }
        }
        return result
    }

    /// The true-class logits of the test samples under the ridge solution on the training samples `kept`, by the
    /// kernel form (N·c unknowns): `w = Jᵀ (J Jᵀ/N + λ)⁻¹ y/N`, N the full training-set size (the factor kept).
    static func ridgeLogits(
        _ j: [[[Double]]], labels: [Int], kept: [Int], total n: Int, lambda: Double,
        test: [[[Double]]], testLabels: [Int]
    ) -> [Double] {
        let c = j[0].count
        let rows = kept.flatMap { i in j[i] }
        let targets = kept.flatMap { i in (0..<c).map { [$0 == labels[i] ? 1.0 : 0.0] } }
        let dot = { (a: [Double], b: [Double]) in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        let gram = rows.enumerated().map { a, ra in
            rows.enumerated().map { b, rb in dot(ra, rb) / Double(n) + (a == b ? lambda : 0) }
        }
        let dual = solveLinearSystem(gram, targets.map { [$0[0] / Double(n)] }).map { $0[0] }
        return zip(test, testLabels).map { rowsOfT, label in
            zip(rows, dual).reduce(0) { $0 + dot(rowsOfT[label], $1.0) * $1.1 }
        }
    }

    /// Scores by re-solving without each training sample: `[n_test][N]`.
    static func bruteForce(
        _ j: [[[Double]]], labels: [Int], lambda: Double, test: [[[Double]]],
        testLabels: [Int]
    ) -> [[Double]] {
        let n = j.count
        let full = ridgeLogits(
            j, labels: labels, kept: Array(0..<n), total: n, lambda: lambda, test: test,
            testLabels: testLabels)
        let without = (0..<n).map { dropped in
            ridgeLogits(
                j, labels: labels, kept: (0..<n).filter { $0 != dropped }, total: n, lambda: lambda,
                test: test, testLabels: testLabels)
        }
        return testLabels.indices.map { t in (0..<n).map { full[t] - without[$0][t] } }
    }

    /// `model` fitted by CG to the MSE optimum on `train`.
    static func fitted<M: FeatureExtractor>(_ model: M, lambda: Double, train: InMemoryBatches) throws -> M {
        var extractor: any FeatureExtractor = model
        let configuration = SolverTests.solverConfiguration(.cg, wd: Float(lambda), iterations: 2_000, tolerance: 1e-10)
        var trainer = Trainer(configuration: configuration)
        trainer.quiet = true
        _ = try trainer.train(&extractor, on: train, evaluateOn: train, loss: OneHotMeanSquaredError())
        guard let fitted = extractor as? M else {
            throw GradFeatError.invalidConfiguration("the trainer changed the model's type")
        }
        return fitted
    }

    /// Random samples with random labels (seeded), so features, labels and residuals all vary.
    static func randomData(_ shape: [Int], seed: UInt64) throws -> InMemoryBatches {
        var rng = SeededRandom(seed: seed)
        let labels = (0..<shape[0]).map { _ in Int(rng.next() % 3) }
        return try InMemoryBatches(
            inputs: Tensor.normal(Shape(shape), using: &rng), targets: .classes(labels), classCount: 3)
    }

    /// The scores of `model` by the library, every score kept, in chunks of 7 training and 4 test samples.
    static func attributed<M: JacobianRowsProvider>(
        _ model: M, train: InMemoryBatches, test: InMemoryBatches,
        lambda: Double, loss: AttributedLoss, topK: Int = 3
    ) throws
        -> LeaveOneOutAttribution.Result
    {
        try LeaveOneOutAttribution(weightDecay: lambda).attribute(
            train: AttributionData(model: model, data: train, chunkSize: 7),
            test: AttributionData(model: model, data: test, chunkSize: 4), classes: 3, loss: loss, topK: topK,
            keepScores: { _ in true })
    }

    static func labels(_ data: InMemoryBatches) -> [Int] {
        guard case let .classes(labels) = data.targets else { return [] }
        return labels
    }

    /// Scores of both signs and not all alike: the comparison compares something.
    static func expectVaried(_ expected: [Double]) {
        #expect(
            expected.contains { $0 > 1e-6 } && expected.contains { $0 < -1e-6 },
            "degenerate scores \(expected.prefix(6))")
        #expect(Set(expected.map { Float($0) }).count > expected.count / 2, "repeated scores \(expected.prefix(6))")
    }

    func check<M: JacobianRowsProvider>(
        _ model: M, train: InMemoryBatches, test: InMemoryBatches,
        form: LeaveOneOutAttribution.Plan.Form
    ) throws {
        let lambda = 0.05
        let trained = try Self.fitted(model, lambda: lambda, train: train)
        let result = try Self.attributed(
            trained, train: train, test: test, lambda: lambda,
            loss: .squaredError(targetScale: 1))
        #expect(result.plan.form == form)
        let got = try #require(result.scores)
        let expected = Self.bruteForce(
            try Self.jacobian(trained, train.inputs), labels: Self.labels(train), lambda: lambda,
            test: try Self.jacobian(trained, test.inputs), testLabels: Self.labels(test)
        ).flatMap { $0 }
        let error = SolverTests.relative(got, expected)
        #expect(error < 1e-4, "relative error \(error) against re-solving")
        Self.expectVaried(expected)
        // The ranked lists, kept chunk by chunk, are each row's extremes in order.
        let n = train.count
        for t in 0..<test.count {
            let row = Array(got[(t * n)..<((t + 1) * n)])
            let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            #expect(Array(result.ranking.top[(t * 3)..<(t * 3 + 3)]) == Array(order.prefix(3)))
            #expect(Array(result.ranking.bottom[(t * 3)..<(t * 3 + 3)]) == Array(order.suffix(3).reversed()))
        }
    }

    /// The activation model on random features (an identity feature network), under both parametrizations.
    @Test(arguments: Parametrization.allCases)
    func activationModelScoresEqualRetrainingWithoutEachSample(parametrization: Parametrization) throws {
        try check(
            Self.activationModel(parametrization), train: try Self.randomData([30, 5], seed: 1),
            test: try Self.randomData([6, 5], seed: 2), form: .kronecker)
    }

    static func activationModel(_ parametrization: Parametrization) -> ActivationFeatures {
        var rng = SeededRandom(seed: 4)
        return ActivationFeatures(
            featureNetwork: Sequential([]), head: LinearHead(features: 5, classes: 3, rng: &rng),
            parametrization: parametrization)
    }

    /// Random activations at the small network's split, shaped like its bottom's output (its own are nearly
    /// constant across images, which would make every sample's gradient features alike).
    static func splitData(_ n: Int, seed: UInt64) throws -> InMemoryBatches {
        let network = GradFeatModelTests.smallNetwork()
        let split = try network.bottom(GradFeatModelTests.input(1), splitAt: "block").shape.dimensions.dropFirst()
        return try randomData([n] + split, seed: seed)
    }

    static func smallTop() throws -> LinearizedTop {
        try LinearizedTop(try GradFeatModelTests.smallNetwork().top(splitAt: "block"), linearize: ["conv3"])
    }

    /// The explicit gradient model of the small network's conv3 (330 parameters), on random activations and labels.
    @Test func explicitGradientModelScoresEqualRetrainingWithoutEachSample() throws {
        let model = ExplicitGradientFeatures(top: try Self.smallTop(), omegaBar: GradFeatModelTests.smallNetwork().head)
        try check(model, train: try Self.splitData(12, seed: 5), test: try Self.splitData(5, seed: 6), form: .dense)
    }

    /// The gradient model in a 40-dimensional random subspace of conv3's θ2 (`projected-gradient`): exact too.
    @Test func projectedGradientModelScoresEqualRetrainingWithoutEachSample() throws {
        let top = try Self.smallTop()
        let model = ExplicitGradientFeatures(
            top: top, omegaBar: GradFeatModelTests.smallNetwork().head,
            rowMap: .projected(try KroneckerProjection(dimension: 40, top: top, seed: 3)))
        #expect(model.parameters.map(\.count) == [40])
        try check(model, train: try Self.splitData(30, seed: 7), test: try Self.splitData(5, seed: 8), form: .dense)
    }

    // MARK: - Cross-entropy

    /// The minimiser of `(1/N) Σ_{i∈kept} CE(J_i w, y_i) + (λ/2)‖w‖²` by Newton's method in Float64, from `start`.
    static func crossEntropyFit(
        _ j: [[[Double]]], labels: [Int], kept: [Int], total n: Int, lambda: Double,
        start: [Double], steps: Int = 40
    ) -> [Double] {
        let (c, p) = (j[0].count, j[0][0].count)
        var w = start
        for _ in 0..<steps {
            var gradient = w.map { lambda * $0 }
            var hessian = (0..<p).map { a in (0..<p).map { b in a == b ? lambda : 0 } }
            for i in kept {
                let z = (0..<c).map { k in zip(j[i][k], w).reduce(0) { $0 + $1.0 * $1.1 } }
                let top = z.max() ?? 0
                let e = z.map { Foundation.exp($0 - top) }
                let prob = e.map { $0 / e.reduce(0, +) }
                for k in 0..<c {
                    let g = (prob[k] - (k == labels[i] ? 1 : 0)) / Double(n)
                    for a in 0..<p { gradient[a] += g * j[i][k][a] }
                    for l in 0..<c {
                        let weight = ((k == l ? prob[k] : 0) - prob[k] * prob[l]) / Double(n)
                        guard weight != 0 else { continue }
                        for a in 0..<p { for b in 0..<p { hessian[a][b] += weight * j[i][k][a] * j[i][l][b] } }
                    }
                }
            }
            let step = solveLinearSystem(hessian, gradient.map { [$0] }).map { $0[0] }
            for a in 0..<p { w[a] -= step[a] }
        }
        return w
    }

    /// Cross-entropy: the one-Newton-step scores of the true-class margin against refitting without each sample by
    /// Newton's method to convergence; the model is set to the optimum found here, so no solver's tolerance enters.
    @Test(arguments: ["activation", "projected-gradient"])
    func crossEntropyScoresApproximateRefittingWithoutEachSample(model name: String) throws {
        let lambda = 0.05
        if name == "activation" {
            try checkCrossEntropy(
                Self.activationModel(.standard), train: try Self.randomData([30, 5], seed: 11),
                test: try Self.randomData([6, 5], seed: 12), lambda: lambda)
        } else {
            let top = try Self.smallTop()
            let model = ExplicitGradientFeatures(
                top: top, omegaBar: GradFeatModelTests.smallNetwork().head,
                rowMap: .projected(try KroneckerProjection(dimension: 20, top: top, seed: 5)))
            try checkCrossEntropy(
                model, train: try Self.splitData(30, seed: 13), test: try Self.splitData(5, seed: 14),
                lambda: lambda)
        }
    }

    func checkCrossEntropy<M: JacobianRowsProvider>(
        _ model: M, train: InMemoryBatches, test: InMemoryBatches,
        lambda: Double
    ) throws {
        let j = try Self.jacobian(model, train.inputs), testJ = try Self.jacobian(model, test.inputs)
        let (labels, testLabels, n) = (Self.labels(train), Self.labels(test), train.count)
        let p = j[0][0].count
        let optimum = Self.crossEntropyFit(
            j, labels: labels, kept: Array(0..<n), total: n, lambda: lambda,
            start: Array(repeating: 0, count: p))
        var fitted = model
        var vector = ParameterVector.zeros(like: model.parameters)
        vector.values = optimum
        fitted.parameters = vector.tensors
        // The measured function: test sample t's true-class margin m = z_c − log Σ_{k≠c} exp z_k, and its gradient
        // in w at the optimum (the scores are first order in the step).
        let c = testJ[0].count
        func logits(_ w: [Double], _ t: Int) -> [Double] {
            (0..<c).map { k in zip(testJ[t][k], w).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        func margin(_ w: [Double], _ t: Int) -> Double {
            let z = logits(w, t)
            let others = (0..<c).filter { $0 != testLabels[t] }.map { Foundation.exp(z[$0]) }.reduce(0, +)
            return z[testLabels[t]] - Foundation.log(others)
        }
        let marginGradients: [[Double]] = (0..<test.count).map { t in
            let z = logits(optimum, t)
            let others = (0..<c).filter { $0 != testLabels[t] }
            let total = others.map { Foundation.exp(z[$0]) }.reduce(0, +)
            return (0..<p).map { i in
                testJ[t][testLabels[t]][i] - others.reduce(0) { $0 + Foundation.exp(z[$1]) / total * testJ[t][$1][i] }
            }
        }
        // Refitting without each sample to convergence, and the single Newton step from the optimum that the
        // library's Woodbury form must equal.
        var refit = [Double](repeating: 0, count: test.count * n), step = refit
        for dropped in 0..<n {
            let kept = (0..<n).filter { $0 != dropped }
            let without = Self.crossEntropyFit(j, labels: labels, kept: kept, total: n, lambda: lambda, start: optimum)
            let stepped = Self.crossEntropyFit(
                j, labels: labels, kept: kept, total: n, lambda: lambda, start: optimum,
                steps: 1)
            for t in 0..<test.count {
                refit[t * n + dropped] = margin(optimum, t) - margin(without, t)
                step[t * n + dropped] = (0..<p).reduce(0) { $0 + marginGradients[t][$1] * (optimum[$1] - stepped[$1]) }
            }
        }
        let result = try Self.attributed(fitted, train: train, test: test, lambda: lambda, loss: .crossEntropy)
        #expect(result.plan.form == .dense)
        let got = try #require(result.scores)
        #expect(SolverTests.relative(got, step) < 1e-5, "against one Newton step: \(SolverTests.relative(got, step))")
        let error = SolverTests.relative(got, refit)
        #expect(error < 0.15, "relative error \(error) against refitting")
        Self.expectVaried(refit)
        let expected = refit
        // The squared-error formula on the same model is far off: the loss's curvature matters.
        let wrong =
            try Self.attributed(
                fitted, train: train, test: test, lambda: lambda,
                loss: .squaredError(targetScale: 1)
            ).scores ?? []
        #expect(SolverTests.relative(wrong, expected) > 3 * error)
    }

    // MARK: - Projected rows of an implicit gradient model

    /// The gradient model attributed through projected rows approaches its exact scores as K grows (the exact ones
    /// from the explicit model of the same θ2 at the same w2).
    @Test func projectedRowsApproximateTheExactScoresBetterAsKGrows() throws {
        let lambda = 0.05
        let network = GradFeatModelTests.smallNetwork()
        let (train, test) = (try Self.splitData(30, seed: 15), try Self.splitData(6, seed: 16))
        let explicit = try Self.fitted(
            ExplicitGradientFeatures(top: try Self.smallTop(), omegaBar: network.head), lambda: lambda, train: train)
        let exact = try #require(
            try Self.attributed(
                explicit, train: train, test: test, lambda: lambda,
                loss: .squaredError(targetScale: 1)
            ).scores)
        var implicit = try GradientFeatures(
            network: network, splitAt: "block", linearize: ["conv3"],
            omegaBar: network.head, parametrization: .standard)
        var w2 = ParameterVector.zeros(like: implicit.parameters)
        w2.values = explicit.weights.scalars.map(Double.init)
        implicit.parameters = w2.tensors
        var errors: [Double] = []
        for k in [8, 32, 128, 320] {
            var perSeed: [Double] = []
            for seed in UInt64(0)..<3 {
                let projection = try KroneckerProjection(dimension: k, top: implicit.top, seed: seed)
                let approximate = try LeaveOneOutAttribution(weightDecay: lambda).attribute(
                    train: AttributionData(model: implicit, projection: projection, data: train, chunkSize: 7),
                    test: AttributionData(model: implicit, projection: projection, data: test), classes: 3,
                    loss: .squaredError(targetScale: 1), topK: 3, keepScores: { _ in true })
                perSeed.append(SolverTests.relative(try #require(approximate.scores), exact))
            }
            errors.append(perSeed.reduce(0, +) / 3)
        }
        #expect(
            errors[0] > errors[1] && errors[1] > errors[2] && errors[2] > errors[3],
            "errors at K = 8, 32, 128, 320: \(errors)")
        #expect(errors[3] < 0.6, "errors at K = 8, 32, 128, 320: \(errors)")
    }

    /// The full model's projected rows: the activation term's `e_k ⊗ φ` beside the projected gradient term, and
    /// rows times the parameters give the logits when w2 lies in the projection's subspace (here w2 = 0).
    @Test func gradFeatProjectedRowsCarryBothTerms() throws {
        let network = GradFeatModelTests.smallNetwork()
        let model = try GradFeatFeatures(
            network: network, splitAt: "block", linearize: ["conv3"],
            omegaBar: network.head, parametrization: .standard)
        let inputs = try Self.splitData(4, seed: 17).inputs
        let projection = try KroneckerProjection(dimension: 16, top: model.linearizedTop, seed: 1)
        guard case let .dense(rows) = try model.projectedJacobianRows(inputs, projection: projection) else {
            Issue.record("rows are not dense")
            return
        }
        let activationWidth = model.activation.parameters.reduce(0) { $0 + $1.count }
        #expect(rows.shape == [4, 3, activationWidth + 16])
        let logits = try model.forward(inputs, mode: .evaluation).logits
        // The activation rows' block order: class k's [W_k, b_k] at k·(d+1) (w2 = 0).
        let (weight, bias) = (model.activation.parameters[0], model.activation.parameters[1])
        let d = weight.shape[1]
        var w1: [Double] = []
        for k in 0..<3 {
            w1 += weight.scalars[(k * d)..<((k + 1) * d)].map { Double($0) }
            w1.append(Double(bias.scalars[k]))
        }
        for n in 0..<4 {
            for k in 0..<3 {
                let row = (n * 3 + k) * (activationWidth + 16)
                var value = 0.0
                for i in 0..<activationWidth { value += Double(rows.scalars[row + i]) * w1[i] }
                let logit = Double(logits.scalars[n * 3 + k])
                #expect(abs(value - logit) < 1e-4 * max(1, abs(value)))
            }
        }
    }

    /// Mismatched inputs are errors, not traps.
    @Test func refusesMismatchedInputs() throws {
        let phi = JacobianRows.classSeparable(.zeros([4, 3]))
        func data(labels: [Int], classes: Int = 2) -> AttributionData {
            AttributionData(count: 4, chunkSize: 4) { _ in
                AttributionData.Chunk(rows: phi, logits: .zeros([4, classes]), labels: labels)
            }
        }
        func attribute(_ train: AttributionData, _ test: AttributionData, lambda: Double = 0.1) throws {
            _ = try LeaveOneOutAttribution(weightDecay: lambda).attribute(
                train: train, test: test, classes: 2, loss: .squaredError(targetScale: 1), topK: 2,
                keepScores: { _ in true })
        }
        // Logits of the wrong width, labels out of range, an interpolated sample (λ = 0, zero features).
        #expect(throws: (any Error).self) {
            try attribute(data(labels: [0, 1, 1, 0], classes: 3), data(labels: [0, 1, 1, 0]))
        }
        #expect(throws: (any Error).self) { try attribute(data(labels: [0, 1, 1, 0]), data(labels: [0, 1, 2, 0])) }
        #expect(throws: (any Error).self) {
            try attribute(data(labels: [0, 1, 1, 0]), data(labels: [0, 1, 1, 0]), lambda: 0)
        }
        // A system wider than the limit is refused by the plan, before any pass.
        let wide = LeaveOneOutAttribution(weightDecay: 0.1, maximumWidth: 2)
        #expect(throws: GradFeatError.self) {
            try wide.plan(rows: phi, classes: 2, loss: .squaredError(targetScale: 1), testCount: 1, chunkSize: 4)
        }
    }
}
