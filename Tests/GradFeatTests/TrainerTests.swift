import Foundation
import GradFeat
import Layers
import Tensor
import TestSupport
import Testing

/// The trainer: exact resume, divergence detection, metrics.
@Suite struct TrainerTests {
    static func data(seed: UInt64 = 3) throws -> (train: InMemoryBatches, network: Network) {
        let network = GradFeatModelTests.smallNetwork(seed: 1)
        let x = GradFeatModelTests.input(40, seed: seed)
        let z0 = try network.bottom(x, splitAt: "block")
        let labels = (0..<40).map { $0 % 3 }
        return (try InMemoryBatches(inputs: z0, targets: .classes(labels), classCount: 3), network)
    }

    final class Box: Sendable {
        let states = Locked<[TrainingState]>([])
    }

    @Test(arguments: [TrainingConfiguration.OptimizerKind.adam, .sgd])
    func resumeContinuesBitIdentically(optimizer: TrainingConfiguration.OptimizerKind) throws {
        let (train, network) = try Self.data()
        let configuration = TrainingConfiguration(
            optimizer: optimizer, learningRate: 0.01, weightDecay: 1e-4, batchSize: 8, iterations: 14, stepSize: 5,
            clipNorm: 10, evaluateEvery: 7, checkpointEvery: 7, seed: 42)
        let context = ExtractorContext(
            network: network, split: "block", linearize: ["block", "conv3"], classes: 3,
            omegaBar: network.head)
        var straight = try ExtractorRegistry.shared.make("gradfeat", context: context)
        var trainer = Trainer(configuration: configuration)
        trainer.quiet = true
        let box = Box()
        trainer.checkpoint = { state in box.states.withLock { $0.append(state) } }
        let straightHistory = try trainer.train(&straight, on: train, loss: SoftmaxCrossEntropy())
        let saved = box.states.withLock { $0 }
        #expect(saved.map(\.iteration) == [7, 14])

        var resumed = try ExtractorRegistry.shared.make("gradfeat", context: context)
        trainer.checkpoint = nil
        let resumedHistory = try trainer.train(&resumed, on: train, loss: SoftmaxCrossEntropy(), resume: saved[0])
        #expect(resumed.parameters == straight.parameters)
        #expect(resumedHistory.map(\.iteration) == straightHistory.map(\.iteration))
        #expect(resumedHistory.last?.trainLoss == straightHistory.last?.trainLoss)
        // The run moved away from the initialisation.
        let initial = try ExtractorRegistry.shared.make("gradfeat", context: context)
        #expect(initial.parameters != straight.parameters)

        var other = configuration
        other.learningRate = 0.02
        var mismatched = try ExtractorRegistry.shared.make("gradfeat", context: context)
        #expect(throws: GradFeatError.self) {
            try Trainer(configuration: other).train(
                &mismatched, on: train, loss: SoftmaxCrossEntropy(), resume: saved[0])
        }
    }

    /// Micro-batches in one process: the weighted sum of the parts' gradients is the whole batch's gradient (up to
    /// rounding), including a last part of another size; refusals say why.
    @Test(arguments: ["activation", "gradfeat"])
    func microBatchesSumToTheWholeBatchsGradient(extractorName: String) throws {
        let (train, network) = try Self.data()
        let configuration = TrainingConfiguration(
            optimizer: .sgd, learningRate: 0.05, weightDecay: 0, momentum: 0, batchSize: 10, iterations: 3,
            stepSize: 0, seed: 5)
        let context = ExtractorContext(
            network: network, split: "block", linearize: ["block", "conv3"], classes: 3, omegaBar: network.head)
        func trained(microBatches: Int) throws -> [Tensor] {
            var extractor = try ExtractorRegistry.shared.make(extractorName, context: context)
            var configuration = configuration
            configuration.microBatches = microBatches
            var trainer = Trainer(configuration: configuration)
            trainer.quiet = true
            try trainer.train(&extractor, on: train, loss: SoftmaxCrossEntropy())
            return extractor.parameters
        }
        let initial = try ExtractorRegistry.shared.make(extractorName, context: context).parameters
        let whole = try trained(microBatches: 1), parts = try trained(microBatches: 3) // 10 rows: 3, 3, 4
        for (i, (w, p)) in zip(whole, parts).enumerated() {
            var moved = (whole: w, parts: p)
            try moved.whole.add(initial[i], scaledBy: -1)
            try moved.parts.add(initial[i], scaledBy: -1)
            #expect(relativeError(moved.parts, moved.whole) < 1e-4, "parameter \(i)")
        }
        #expect(whole != parts) // a different sum: the bits may differ, which is why M is fixed across ranks

        var extractor = try ExtractorRegistry.shared.make(extractorName, context: context)
        var trainer = Trainer(configuration: configuration)
        trainer.quiet = true
        trainer.configuration.microBatches = 11 // more than the batch of 10
        #expect(throws: GradFeatError.self) { try trainer.train(&extractor, on: train, loss: SoftmaxCrossEntropy()) }
    }

    @Test func divergenceStopsWithAClearMessage() throws {
        var (train, network) = try Self.data()
        train.inputs.scalars[5 * train.inputs.shape.sampleCount + 3] = .nan // one corrupt sample
        let configuration = TrainingConfiguration(
            optimizer: .sgd, learningRate: 0.1, weightDecay: 0, batchSize: 8, iterations: 50, stepSize: 0, seed: 1)
        var extractor = try ExtractorRegistry.shared.make(
            "activation", context: ExtractorContext(network: network, split: "block", linearize: ["conv3"], classes: 3))
        var trainer = Trainer(configuration: configuration)
        trainer.quiet = true
        let error = #expect(throws: GradFeatError.self) {
            try trainer.train(&extractor, on: train, loss: SoftmaxCrossEntropy())
        }
        #expect(error?.description.contains("diverged at iteration") == true)
        #expect(error?.description.contains("learning rate") == true)
    }

    @Test func metricsMatchHandComputedValues() {
        let logits = try! Tensor(shape: [4, 2], scalars: [2, 1, 0, 3, 5, 1, 1, 2])
        let metrics = Metrics(logits: logits, targets: .classes([0, 1, 1, 1]))
        #expect(metrics.accuracy == 0.75)
        #expect(metrics.confusion! == [[1, 0], [1, 2]])
        // AP: scores ranked 0.9 (+), 0.8 (−), 0.7 (+), difficult 0.95 ignored → (1/1 + 2/3) / 2.
        let ap = Metrics.averagePrecision(scores: [0.9, 0.8, 0.7, 0.95], flags: [1, 0, 1, -1])
        #expect(abs(ap - (1 + 2.0 / 3) / 2) < 1e-12)
        #expect(Metrics.averagePrecision(scores: [0.1], flags: [0]).isNaN)
    }

    @Test func batchOrderIsSeededAndCoversEachEpoch() {
        let order = BatchOrder(count: 10, batchSize: 3, seed: 9)
        #expect(order.batchesPerEpoch == 3)
        let epoch = (0..<3).flatMap { order.indices(iteration: $0) }
        #expect(Set(epoch).count == 9)
        #expect(order.indices(iteration: 4) == BatchOrder(count: 10, batchSize: 3, seed: 9).indices(iteration: 4))
        #expect(order.permutation(epoch: 0) != order.permutation(epoch: 1))
    }
}
