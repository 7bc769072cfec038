import Datasets
import Foundation
import GradFeat
import Layers
import Tensor
import Testing

/// The method on real data: a subset of the shared CIFAR-10, a base network pre-trained here by rotation prediction.
@Suite struct RealDataTests {
    static let dataRoot: String = {
        if let dir = ProcessInfo.processInfo.environment["GRADFEAT_DATA_DIR"], !dir.isEmpty { return dir }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("shared/datasets").standardizedFileURL.path
    }()

    @Test func fullModelBeatsActivationModelOnCIFAR10() throws {
        let file = Self.dataRoot + "/cifar10/test_batch.bin.xz"
        try #require(
            FileManager.default.fileExists(atPath: file), "the shared CIFAR-10 test batch is missing at \(file)")
        let set = try CIFARBinary.load(files: [file], variant: .cifar10, split: "test")
        #expect(set.count == 10_000)
        let all = try ImageBatches(set, scaling: .unit)
        let train = all.subset(Array(0..<4000)), test = all.subset(Array(4000..<6000))

        var network = BiganCIFAR.make(classes: 10, widthDivisor: 2, seed: 1)
        var pretraining = TrainingConfiguration.paper(iterations: 150, seed: 1)
        pretraining.batchSize = 64
        network.backbone = try Pretraining.rotation(network, images: train, configuration: pretraining, quiet: true)
            .network.backbone
        let trainCache = try ActivationCache.compute(network: network, splitAt: "conv5", data: train, quiet: true)
        let testCache = try ActivationCache.compute(network: network, splitAt: "conv5", data: test, quiet: true)

        let comparison = Comparison(
            network: network, split: "conv5", linearize: ["conv5"], extractors: ["activation", "gradfeat"],
            configurations: ["activation": .paper(iterations: 400, seed: 2)], quiet: true)
        let rows = try comparison.run(train: trainCache, test: testCache, loss: SoftmaxCrossEntropy())
        let activation = rows[0].metrics.accuracy!, full = rows[1].metrics.accuracy!
        print(String(format: "CIFAR-10 subset: activation %.2f%%, full GradFeat %.2f%%", 100 * activation, 100 * full))
        #expect(activation > 0.2, "the activation baseline should learn something: \(activation)")
        #expect(full > activation + 0.01, "full \(full) vs activation \(activation)")
    }
}
