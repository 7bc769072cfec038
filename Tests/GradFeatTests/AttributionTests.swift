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
            if result.isEmpty { result = Array(repeating: Array(repeating: Array(repeating: 0, count: p), count: c), count: n) }
            for i in 0..<n { for k in 0..<c { result[i][k][m] = Double(logits.scalars[i * c + k]) } }
        }
        return result
    }

    /// The true-class logits of the test samples under the ridge solution on the training samples `kept`, by the
    /// kernel form (N·c unknowns): `w = Jᵀ (J Jᵀ/N + λ)⁻¹ y/N`, N the full training-set size (the factor kept).
    static func ridgeLogits(_ j: [[[Double]]], labels: [Int], kept: [Int], total n: Int, lambda: Double,
                            test: [[[Double]]], testLabels: [Int]) -> [Double] {
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
    static func bruteForce(_ j: [[[Double]]], labels: [Int], lambda: Double, test: [[[Double]]],
                           testLabels: [Int]) -> [[Double]] {
        let n = j.count
        let full = ridgeLogits(j, labels: labels, kept: Array(0..<n), total: n, lambda: lambda, test: test,
                               testLabels: testLabels)
        let without = (0..<n).map { dropped in
            ridgeLogits(j, labels: labels, kept: (0..<n).filter { $0 != dropped }, total: n, lambda: lambda,
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
        guard let fitted = extractor as? M else { throw GradFeatError.invalidConfiguration("the trainer changed the model's type") }
        return fitted
    }

    /// Random samples with random labels (seeded), so features, labels and residuals all vary.
    static func randomData(_ shape: [Int], seed: UInt64) throws -> InMemoryBatches {
        var rng = SeededRandom(seed: seed)
        let labels = (0..<shape[0]).map { _ in Int(rng.next() % 3) }
        return try InMemoryBatches(inputs: Tensor.normal(Shape(shape), using: &rng), targets: .classes(labels), classCount: 3)
    }

    func check<M: JacobianRowsProvider>(_ model: M, train: InMemoryBatches, test: InMemoryBatches) throws {
        let lambda = 0.05
        let trained = try Self.fitted(model, lambda: lambda, train: train)
        let loss = OneHotMeanSquaredError()
        let trainSamples = try LeaveOneOutAttribution.samples(of: trained, on: train, loss: loss, chunkSize: 7)
        let testSamples = try LeaveOneOutAttribution.samples(of: trained, on: test, loss: loss, chunkSize: 4)
        let got = try LeaveOneOutAttribution(weightDecay: lambda).scores(
            train: trainSamples.rows, residuals: trainSamples.residuals, classes: 3, test: testSamples.rows,
            testClasses: testSamples.labels)
        let expected = Self.bruteForce(
            try Self.jacobian(trained, train.inputs), labels: trainSamples.labels, lambda: lambda,
            test: try Self.jacobian(trained, test.inputs), testLabels: testSamples.labels).flatMap { $0 }
        let error = SolverTests.relative(got, expected)
        #expect(error < 1e-4, "relative error \(error) against re-solving")
        // Of both signs and not all alike: the check compares something.
        #expect(expected.contains { $0 > 1e-6 } && expected.contains { $0 < -1e-6 }, "degenerate scores \(expected.prefix(6))")
        #expect(Set(expected.map { Float($0) }).count > expected.count / 2, "repeated scores \(expected.prefix(6))")
    }

    /// The activation model on random features (an identity feature network), under both parametrizations.
    @Test(arguments: Parametrization.allCases)
    func activationModelScoresEqualRetrainingWithoutEachSample(parametrization: Parametrization) throws {
        var rng = SeededRandom(seed: 4)
        let model = ActivationFeatures(featureNetwork: Sequential([]), head: LinearHead(features: 5, classes: 3, rng: &rng),
                                       parametrization: parametrization)
        try check(model, train: try Self.randomData([30, 5], seed: 1), test: try Self.randomData([6, 5], seed: 2))
    }

    /// The explicit gradient model of the small network's conv3 (330 parameters), on random activations and labels.
    @Test func explicitGradientModelScoresEqualRetrainingWithoutEachSample() throws {
        let network = GradFeatModelTests.smallNetwork()
        // Random activations at the split, shaped like the bottom's output (the small network's own are nearly
        // constant across images, which would make every sample's gradient features alike).
        let split = try network.bottom(GradFeatModelTests.input(1), splitAt: "block").shape.dimensions.dropFirst()
        func data(_ n: Int, seed: UInt64) throws -> InMemoryBatches { try Self.randomData([n] + split, seed: seed) }
        let model = ExplicitGradientFeatures(
            top: try LinearizedTop(try network.top(splitAt: "block"), linearize: ["conv3"]), omegaBar: network.head)
        try check(model, train: try data(12, seed: 5), test: try data(5, seed: 6))
    }

    /// Mismatched inputs are errors, not traps.
    @Test func refusesMismatchedInputs() throws {
        let attribution = LeaveOneOutAttribution(weightDecay: 0.1)
        let phi = JacobianRows.classSeparable(.zeros([4, 3]))
        #expect(throws: (any Error).self) {
            try attribution.scores(train: phi, residuals: [0, 0], classes: 2, test: phi, testClasses: [0, 0, 0, 0])
        }
        #expect(throws: (any Error).self) {
            try attribution.scores(train: phi, residuals: Array(repeating: 0, count: 8), classes: 2, test: phi,
                                   testClasses: [0, 1, 2, 0])
        }
        #expect(throws: (any Error).self) {
            try LeaveOneOutAttribution(weightDecay: 0).scores(
                train: phi, residuals: Array(repeating: 0, count: 8), classes: 2, test: phi, testClasses: [0, 1, 1, 0])
        }
    }
}
