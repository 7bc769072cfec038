// Writing your own feature extractor and running it through GradFeat's pipeline unchanged.
//
// `RandomFeatures` is a random-feature baseline: a fixed random projection of the frozen features, a ReLU, and a
// trained linear head — as many trainable weights as you like, but no gradient information. Registered under a
// name, it trains beside the built-in models.
//
//     swift run -c release CustomExtractor [--train-size 10000] [--niter 1000]
import ArgumentParser
import Foundation
import GradFeat
import Layers
import Tensor

/// logits = W · relu(R f(x)) + b, with R fixed and random.
struct RandomFeatures: FeatureExtractor {
    var featureNetwork: Sequential
    var projection: Dense  // R, frozen
    var head: Dense  // (W, b), trained

    init(context: ExtractorContext, width: Int) throws {
        var rng = SeededRandom(seed: context.seed ^ 0xF00D)
        featureNetwork = try context.network.top(splitAt: context.split).foldingBatchNorm()
        projection = Dense(inputs: context.network.featureCount, outputs: width, rng: &rng)
        head = Dense(inputs: width, outputs: context.classes, rng: &rng)
    }

    var parameters: [Tensor] {
        get { head.parameters }
        set { head.parameters = newValue }
    }
    var parameterNames: [String] { ["head.weight", "head.bias"] }

    func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput {
        let f = try featureNetwork.forward(input)
        let features = try ReLU().forward(try projection.forward(f))
        let pass = try head.apply(features, tangent: nil, parameterTangent: nil, mode: mode)
        return ExtractorOutput(logits: pass.value, record: pass.record, features: features)
    }

    func parameterGradients(_ output: ExtractorOutput, logitsGradient: Tensor) throws -> [Tensor] {
        try head.vjp(output.record!, outputGradient: logitsGradient, needInputGradient: false, mode: .evaluation).parameters
    }
}

@main
struct CustomExtractorExample: ParsableCommand {
    @Option var trainSize = 10_000
    @Option var niter = 1_000
    @Option var width = 2_048
    @Option var seed: UInt64 = 0
    @Option var output = "runs/custom-extractor"

    func run() throws {
        // 1. Register the extractor: the trainer, `gradfeat train --extractor random-features` and config files
        //    find it by name from now on.
        let width = self.width
        ExtractorRegistry.shared.register("random-features", summary: "W relu(R f) + b, R random", needsOmegaBar: false) {
            try RandomFeatures(context: $0, width: width)
        }

        // 2. A base network pre-trained without labels, and its cached activations (Fashion-MNIST from Debian).
        let train = try ImageBatches(try DataCatalog.load("fashion-mnist", split: "train", dataDirectory: nil), scaling: .unit)
            .subset(Array(0..<trainSize)).padded(by: 2)
        let test = try ImageBatches(try DataCatalog.load("fashion-mnist", split: "test", dataDirectory: nil), scaling: .unit)
            .padded(by: 2)
        var network = BiganCIFAR.make(classes: 10, inputChannels: 1, widthDivisor: 2, seed: seed)
        var pretraining = TrainingConfiguration.paper(iterations: 300, seed: seed)
        pretraining.batchSize = 128
        network.backbone = try Pretraining.rotation(network, images: train, configuration: pretraining).network.backbone

        // 3. The same comparison pipeline, with the custom extractor beside the built-ins.
        let comparison = Comparison(
            network: network, split: "conv5", linearize: ["conv5"],
            extractors: ["activation", "random-features", "gradfeat"],
            configurations: ["activation": .paper(iterations: niter, seed: seed)])
        let rows = try comparison.run(images: train, test: test, loss: SoftmaxCrossEntropy())
        let report = ResultsReport(title: "A custom extractor beside GradFeat (Fashion-MNIST)", rows: rows,
                                   notes: ["random-features: width \(width); \(trainSize) training images; seed \(seed)"],
                                   configurations: ["pretraining": pretraining, "models": .paper(iterations: niter, seed: seed)])
        try report.write(to: URL(fileURLWithPath: output))
        print(report.markdown)
    }
}
