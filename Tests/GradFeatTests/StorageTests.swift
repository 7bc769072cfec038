import Datasets
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor
import TestSupport
import Testing

/// Weights, checkpoints and activation caches in HDF5: round trips and refusals.
@Suite struct StorageTests {
    func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-\(UUID().uuidString)-\(name)")
    }

    @Test func weightsRoundTripAndMismatchReport() throws {
        let url = temporaryURL("weights.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let network = ResNet.makeCIFAR(classes: 10, seed: 1)
        try WeightsFile.save(network, to: url)
        let fresh = ResNet.makeCIFAR(classes: 10, seed: 2)
        let loaded = try WeightsFile.load(url, into: fresh)
        #expect(loaded.stateDict.map(\.value) == network.stateDict.map(\.value))
        #expect(try WeightsFile.check(url, against: fresh).isExact)

        // Another head size: refused with the mismatch named, or accepted when the head may stay initial.
        let otherHead = ResNet.makeCIFAR(classes: 5, seed: 3)
        let error = #expect(throws: GradFeatError.self) { try WeightsFile.load(url, into: otherHead) }
        #expect(error?.description.contains("fc.weight") == true)
        let newHead = try WeightsFile.load(url, into: otherHead, keepInitial: ["fc."])
        #expect(
            newHead.backbone.parameters == network.backbone.parameters && newHead.head.weight == otherHead.head.weight)
        let bigan = BiganCIFAR.make(classes: 10, seed: 1)
        let report = try WeightsFile.check(url, against: bigan)
        #expect(report.missing.contains("conv5.weight") && report.unexpected.contains("layer3.1.conv2.weight"))
    }

    @Test func weightsWithoutHeadLoadWhenAllowed() throws {
        let url = temporaryURL("backbone.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let network = BiganCIFAR.make(classes: 4, seed: 1)
        try HDF5File.writeAtomically(to: url, format: WeightsFile.format, version: WeightsFile.version) { file in
            for (name, value) in network.backbone.stateDict {
                try file.createDataset(name, values: value.scalars, shape: value.shape.dimensions)
            }
        }
        let target = BiganCIFAR.make(classes: 10, seed: 5)
        #expect(throws: GradFeatError.self) { try WeightsFile.load(url, into: target) }
        let loaded = try WeightsFile.load(url, into: target, keepInitial: ["fc."])
        #expect(loaded.backbone.parameters == network.backbone.parameters)
        #expect(loaded.head.weight == target.head.weight)
    }

    @Test func checkpointRoundTripIsExact() throws {
        let url = temporaryURL("checkpoint.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        var rng = SeededRandom(seed: 1)
        let state = TrainingState(
            iteration: 70, parameters: [randomTensor([3, 4], &rng), randomTensor([3], &rng)],
            parameterNames: ["fc.weight", "fc.bias"],
            optimizerState: [randomTensor([3, 4], &rng), randomTensor([3], &rng)], optimizerStep: 70,
            randomState: [1, UInt64.max, 3, 1 << 63], configuration: .paper(iterations: 100, seed: 4),
            history: [
                EvaluationRecord(
                    iteration: 50, trainLoss: 0.5, testLoss: 0.6, testMetric: 0.7, learningRate: 1e-3, seconds: 1.5)
            ])
        try CheckpointFile.save(state, extractor: "gradfeat", to: url)
        let (loaded, extractor) = try CheckpointFile.load(url)
        #expect(loaded == state)
        #expect(extractor == "gradfeat")
    }

    @Test func truncatedCheckpointIsRefused() throws {
        let url = temporaryURL("truncated.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        var rng = SeededRandom(seed: 2)
        let state = TrainingState(
            iteration: 1, parameters: [randomTensor([64, 64], &rng)], parameterNames: ["w"], optimizerState: [],
            optimizerStep: 1, randomState: [1, 2, 3, 4], configuration: .paper(), history: [])
        try CheckpointFile.save(state, extractor: "gradient", to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count / 2).write(to: url)
        #expect(throws: (any Error).self) { try CheckpointFile.load(url) }
    }

    @Test func activationCacheRefusesAnotherProducer() throws {
        let url = temporaryURL("activations.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        let network = BiganCIFAR.make(classes: 3, widthDivisor: 4, seed: 1)
        var rng = SeededRandom(seed: 3)
        let images = try InMemoryBatches(
            inputs: Tensor.uniform([6, 3, 32, 32], low: 0, high: 1, using: &rng),
            targets: .classes([0, 1, 2, 0, 1, 2]),
            classCount: 3)
        let cache = try ActivationCache.compute(network: network, splitAt: "conv5", data: images, quiet: true)
        let producer = try ActivationCacheFile.Producer(
            network: network, layer: "conv5", split: "train", source: "test", transform: "unit")
        try ActivationCacheFile.save(cache, producer: producer, to: url)
        let (loaded, found) = try ActivationCacheFile.load(url, expecting: producer)
        #expect(found == producer)
        #expect(loaded.inputs == cache.inputs && loaded.targets == cache.targets)

        let reader = try ActivationCacheReader(url, expecting: producer)
        #expect(reader.count == 6 && reader.sampleShape == cache.sampleShape)
        let streamed = try reader.batch([4, 1, 4])
        #expect(streamed.inputs == cache.inputs.gathering(rows: [4, 1, 4]) && streamed.targets == .classes([1, 1, 1]))
        #expect(try reader.batch(rows: 2..<5).inputs == cache.inputs.rows(2..<5))

        let other = BiganCIFAR.make(classes: 3, widthDivisor: 4, seed: 2)
        let otherProducer = try ActivationCacheFile.Producer(
            network: other, layer: "conv5", split: "train", source: "test", transform: "unit")
        let error = #expect(throws: GradFeatError.self) { try ActivationCacheFile.load(url, expecting: otherProducer) }
        #expect(error?.description.contains("weights_hash") == true)
        var otherLayer = producer
        otherLayer.layer = "conv4"
        let layerError = #expect(throws: GradFeatError.self) {
            try ActivationCacheFile.load(url, expecting: otherLayer)
        }
        #expect(layerError?.description.contains("layer") == true)
    }

    /// The same images read from a data set's files (as `train` does) and from its data-set cache (as
    /// `cache --activations` does) have one producer, so that `train` reuses what `cache --activations` wrote.
    @Test func activationCacheProducerNamesImagesByContent() throws {
        var rng = SeededRandom(seed: 7)
        let pixels = (0..<(6 * 28 * 28)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let set = ImageSet(
            images: pixels, count: 6, channels: 1, height: 28, width: 28, labels: .single([0, 1, 2, 0, 1, 2]),
            classNames: ["a", "b", "c"], source: "/data/digits", split: "train")
        let url = temporaryURL("digits.h5")
        defer { try? FileManager.default.removeItem(at: url) }
        try DatasetCache.write(set, to: url)
        let network = try ModelZoo.make(BiganCIFAR.smallName, classes: 3, inputChannels: 1, seed: 1)
        func producer(_ set: ImageSet) throws -> ActivationCacheFile.Producer {
            let images = try ImageBatches(set, scaling: network.inputScaling)
                .padded(by: ImageBatches.paddingBorder(from: 28, to: 32))
            return try ActivationCacheFile.Producer(network: network, layer: "conv5", split: set.split, images: images)
        }
        let direct = try producer(set)
        #expect(try producer(try DatasetCache.read(url)) == direct)
        #expect(direct.source.hasPrefix("6 images 1x32x32 fnv1a64:"))
        #expect(direct.transform == "pad-to-32,\(network.inputScaling.mean),\(network.inputScaling.std)")
        var changed = set
        changed.images[0] ^= 1
        #expect(try producer(changed).source != direct.source)
        changed = set
        changed.labels = .single([0, 1, 2, 0, 1, 1])
        #expect(try producer(changed).source != direct.source)
    }
}
