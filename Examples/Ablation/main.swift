// The paper's ablation (Mu, Liang, Li, ICLR 2020, Table 1) at this machine's scale: which parameters make gradient
// features discriminative? The activation term always uses the pre-trained network; the gradient term's θ1, θ2 and
// ω are each pre-trained or random. Then 1, 2 and 3 linearized layers with everything pre-trained.
//
//     swift run -c release Ablation [--dataset fashion-mnist] [--train-size 10000] [--niter 1000]
import ArgumentParser
import Foundation
import GradFeat
import GradFeatLogging
import Layers
import Tensor

@main
struct Ablation: ParsableCommand {
    @Option var dataset = "fashion-mnist"
    @Option var dataDir: String?
    @Option var trainSize = 10_000
    @Option var testSize = 5_000
    @Option var pretrainIterations = 400
    @Option var niter = 1_000
    @Option var seed: UInt64 = 0
    @Option var output = "runs/ablation"

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        func load(_ split: String, _ n: Int) throws -> ImageBatches {
            var images = try ImageBatches(
                try DataCatalog.load(dataset, split: split, dataDirectory: dataDir), scaling: .unit)
            if images.imageShape[1] == 28 { images = images.padded(by: 2) }
            return images.subset(Array(0..<min(n, images.count)))
        }
        let train = try load("train", trainSize), test = try load("test", testSize)
        let channels = train.imageShape[0]
        let random = BiganCIFAR.make(classes: 10, inputChannels: channels, widthDivisor: 2, seed: seed &+ 1)
        var pretrained = BiganCIFAR.make(classes: 10, inputChannels: channels, widthDivisor: 2, seed: seed)
        var pretraining = TrainingConfiguration.paper(iterations: pretrainIterations, seed: seed)
        pretraining.batchSize = 128
        pretrained.backbone = try Pretraining.rotation(pretrained, images: train, configuration: pretraining).network
            .backbone
        let first = pretrained.layerNames.first!

        // The activation baseline on the pre-trained features gives ω̄ (and the activation term of every row).
        let standardized = try pretrained.standardizingFeatures(using: train, splitAt: first)
        var activation: any FeatureExtractor = try ActivationFeatures(
            network: standardized, splitAt: first, classes: 10, seed: seed)
        var trainer = Trainer(configuration: .paper(iterations: niter, seed: seed))
        trainer.label = "activation"
        var clock = Date()
        try trainer.train(&activation, on: train, loss: SoftmaxCrossEntropy())
        let activationSeconds = Date().timeIntervalSince(clock)
        let activationModel = activation as! ActivationFeatures
        let omegaBar = activationModel.head
        var rng = SeededRandom(seed: seed &+ 2)
        let randomOmega = LinearHead(features: pretrained.featureCount, classes: 10, rng: &rng)
        var rows: [Comparison.Row] = [try row("activation only", activation, test, activationSeconds)]

        // The gradient term's network: θ1 = conv1–conv4 and θ2 = conv5, each from the pre-trained or random network.
        func mixed(theta1: Bool, theta2: Bool) throws -> Network {
            var network = pretrained
            let split = try pretrained.splitIndex(at: "conv5")
            for i in network.backbone.layers.indices {
                let usePretrained = i < split ? theta1 : theta2
                if !usePretrained { network.backbone.layers[i] = random.backbone.layers[i] }
            }
            return try network.standardizingFeatures(using: train, splitAt: first)
        }
        let grid: [(String, Bool, Bool, Bool, [String])] = [
            ("θ1 pre, θ2 pre, ω pre", true, true, true, ["conv5"]),
            ("θ1 pre, θ2 pre, ω random", true, true, false, ["conv5"]),
            ("θ1 pre, θ2 random, ω pre", true, false, true, ["conv5"]),
            ("θ1 random, θ2 pre, ω pre", false, true, true, ["conv5"]),
            ("θ1 random, θ2 random, ω random", false, false, false, ["conv5"]),
            ("pre-trained, linearize conv4–5", true, true, true, ["conv4", "conv5"]),
            ("pre-trained, linearize conv3–5", true, true, true, ["conv3", "conv4", "conv5"]),
        ]
        for (name, theta1, theta2, omega, layers) in grid {
            let gradientNetwork = try mixed(theta1: theta1, theta2: theta2)
            let gradient = GradientFeatures(
                top: try LinearizedTop(gradientNetwork.backbone, linearize: layers),
                omegaBar: omega ? omegaBar : randomOmega)
            var model: any FeatureExtractor = GradFeatFeatures(activation: activationModel, gradient: gradient)
            var trainer = Trainer(configuration: .paper(iterations: niter, seed: seed))
            trainer.label = name
            clock = Date()
            try trainer.train(&model, on: train, loss: SoftmaxCrossEntropy())
            rows.append(try row(name, model, test, Date().timeIntervalSince(clock)))
        }
        let report = ResultsReport(
            title: "Ablation (Table 1) on \(dataset): which weights make gradient features useful", rows: rows,
            notes: [
                "bigan-small pre-trained by rotation prediction (\(pretrainIterations) iterations); random = another seed's initialisation",
                "full model w1ᵀf + b + ω ᵀJ w2; activation term always pre-trained; \(train.count) train / \(test.count) test images; \(niter) iterations; seed \(seed)",
            ])
        try report.write(to: URL(fileURLWithPath: output))
        print(report.markdown)
    }

    func row(_ name: String, _ model: any FeatureExtractor, _ test: ImageBatches, _ seconds: Double) throws
        -> Comparison.Row
    {
        let metrics = try Evaluator().evaluate(model, on: test, loss: SoftmaxCrossEntropy())
        return Comparison.Row(
            extractor: name, metrics: metrics, trainMetrics: nil, history: [], seconds: seconds,
            parameterCount: model.parameterCount)
    }
}
