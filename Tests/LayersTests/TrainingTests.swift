import Foundation
import Layers
import Tensor
import TestSupport
import Testing

/// Losses, optimisers, clipping and the schedule against their definitions.
@Suite struct TrainingTests {
    func numericGradient(_ loss: some Loss, _ logits: Tensor, _ targets: Targets) throws -> Tensor {
        let eps: Float = 1e-2
        return try Tensor(
            shape: logits.shape,
            scalars: (0..<logits.count).map { i in
                var plus = logits, minus = logits
                plus.scalars[i] += eps
                minus.scalars[i] -= eps
                return Float(
                    (try loss.evaluate(logits: plus, targets: targets).loss
                        - loss.evaluate(logits: minus, targets: targets).loss) / (2 * Double(eps)))
            })
    }

    @Test func softmaxCrossEntropyGradient() throws {
        var rng = SeededRandom(seed: 41)
        let logits = randomTensor([4, 5], &rng, scale: 2)
        let targets = Targets.classes([0, 3, 4, 1])
        let (loss, gradient) = try SoftmaxCrossEntropy().evaluate(logits: logits, targets: targets)
        #expect(relativeError(gradient, try numericGradient(SoftmaxCrossEntropy(), logits, targets)) < 1e-3)
        // Uniform logits give log K.
        let uniform = try SoftmaxCrossEntropy().evaluate(logits: .zeros([2, 5]), targets: .classes([1, 2])).loss
        #expect(abs(uniform - log(5.0)) < 1e-6)
        #expect(loss > 0)
        #expect(throws: TensorError.self) {
            try SoftmaxCrossEntropy().evaluate(logits: logits, targets: .classes([0, 9, 1, 1]))
        }
        var bad = logits
        bad.scalars[3] = .nan
        #expect(throws: TensorError.self) { try SoftmaxCrossEntropy().evaluate(logits: bad, targets: targets) }
    }

    @Test func binaryCrossEntropyGradientIgnoresDifficult() throws {
        var rng = SeededRandom(seed: 42)
        let logits = randomTensor([3, 4], &rng, scale: 2)
        let targets = Targets.multiLabel(flags: [1, 0, -1, 0, 0, 1, 1, -1, 0, 0, 0, 1], classCount: 4)
        let (_, gradient) = try SigmoidBinaryCrossEntropy().evaluate(logits: logits, targets: targets)
        #expect(relativeError(gradient, try numericGradient(SigmoidBinaryCrossEntropy(), logits, targets)) < 1e-3)
        #expect(gradient.scalars[2] == 0 && gradient.scalars[7] == 0)
        // σ(0) against 1: log 2.
        let half = try SigmoidBinaryCrossEntropy().evaluate(
            logits: .zeros([1, 2]), targets: .multiLabel(flags: [1, 0], classCount: 2)
        ).loss
        #expect(abs(half - log(2.0)) < 1e-6)
    }

    @Test func meanSquaredErrorGradient() throws {
        var rng = SeededRandom(seed: 43)
        let z = randomTensor([3, 4], &rng), t = randomTensor([3, 4], &rng)
        let (loss, gradient) = try MeanSquaredError().evaluate(logits: z, targets: .values(t))
        #expect(relativeError(gradient, try numericGradient(MeanSquaredError(), z, .values(t))) < 1e-3)
        #expect(abs(loss - 0.5 * (try z - t).squaredNorm() / 3) < 1e-9)
        #expect(throws: TensorError.self) { try MeanSquaredError().evaluate(logits: z, targets: .classes([0, 1, 2])) }
    }

    @Test func sgdMatchesPyTorchRecurrence() throws {
        var parameters = [try Tensor(shape: [2], scalars: [1, -2])]
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        let g = try Tensor(shape: [2], scalars: [0.5, 0.25])
        try sgd.update(&parameters, gradients: [g])
        // v1 = g + wd·θ0; θ1 = θ0 − lr·v1
        let v1 = [0.5 + 0.01 * 1, 0.25 + 0.01 * -2.0]
        let t1 = [1 - 0.1 * v1[0], -2 - 0.1 * v1[1]]
        try sgd.update(&parameters, gradients: [g])
        let v2 = [0.9 * v1[0] + 0.5 + 0.01 * t1[0], 0.9 * v1[1] + 0.25 + 0.01 * t1[1]]
        let t2 = [t1[0] - 0.1 * v2[0], t1[1] - 0.1 * v2[1]]
        #expect(abs(Double(parameters[0].scalars[0]) - t2[0]) < 1e-6)
        #expect(abs(Double(parameters[0].scalars[1]) - t2[1]) < 1e-6)
    }

    /// Updates of parameters long enough to be split across the workers (200,003 scalars) follow the same
    /// recurrences element by element, for SGD with momentum and for Adam.
    @Test func longParameterUpdatesMatchTheRecurrences() throws {
        var rng = SeededRandom(seed: 47)
        let count = 200_003
        let start = randomTensor([count], &rng), g1 = randomTensor([count], &rng), g2 = randomTensor([count], &rng)
        var parameters = [start]
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        try sgd.update(&parameters, gradients: [g1])
        try sgd.update(&parameters, gradients: [g2])
        var adamParameters = [start]
        var adam = Adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999, weightDecay: 0.01)
        try adam.update(&adamParameters, gradients: [g1])
        var worstSGD: Float = 0, worstAdam: Float = 0
        for j in stride(from: 0, to: count, by: 997) + [count - 1] {
            let (t0, a, b) = (start.scalars[j], g1.scalars[j], g2.scalars[j])
            let v1 = a + 0.01 * t0, t1 = t0 - 0.1 * v1
            let v2 = 0.9 * v1 + b + 0.01 * t1, t2 = t1 - 0.1 * v2
            worstSGD = max(worstSGD, abs(parameters[0].scalars[j] - t2))
            let d = a + 0.01 * t0
            let (m, v) = (0.5 * d / 0.5, 0.001 * d * d / 0.001) // bias-corrected moments after one step
            worstAdam = max(worstAdam, abs(adamParameters[0].scalars[j] - (t0 - 1e-3 * m / (v.squareRoot() + 1e-8))))
        }
        #expect(worstSGD < 1e-5 && worstAdam < 1e-5, "SGD \(worstSGD), Adam \(worstAdam)")
    }

    @Test func adamFirstStepMovesByLearningRate() throws {
        var parameters = [try Tensor(shape: [3], scalars: [1, 2, 3])]
        var adam = Adam(learningRate: 1e-3, beta1: 0.5, beta2: 0.999)
        try adam.update(&parameters, gradients: [try Tensor(shape: [3], scalars: [4, -0.1, 0])])
        // After one bias-corrected step, each moved parameter moves by lr · sign(g).
        #expect(abs(parameters[0].scalars[0] - (1 - 1e-3)) < 1e-6)
        #expect(abs(parameters[0].scalars[1] - (2 + 1e-3)) < 1e-6)
        #expect(parameters[0].scalars[2] == 3)
        #expect(adam.state.count == 2 && adam.step == 1)
    }

    @Test func clippingAndSchedule() throws {
        var grads = [try Tensor(shape: [2], scalars: [30, 40])]
        let norm = try clipGradientNorm(&grads, maxNorm: 10)
        #expect(abs(norm - 50) < 1e-4)
        #expect(abs(Float(grads[0].squaredNorm().squareRoot()) - 10) < 1e-3)
        var small = [try Tensor(shape: [2], scalars: [3, 4])]
        try clipGradientNorm(&small, maxNorm: 10)
        #expect(small[0].scalars == [3, 4])
        var nan = [try Tensor(shape: [1], scalars: [.nan])]
        #expect(throws: TensorError.self) { try clipGradientNorm(&nan, maxNorm: 1) }
        let schedule = StepSchedule(base: 1e-3, factor: 0.5, stepSize: 20_000)
        #expect(schedule.learningRate(at: 19_999) == 1e-3)
        #expect(schedule.learningRate(at: 20_000) == 5e-4)
        #expect(schedule.learningRate(at: 45_000) == 2.5e-4)
    }
}
