// Writing your own feature extractor and running it through GradFeat's pipeline unchanged.
//
// `RandomFeatures` is a random-feature baseline: a fixed random projection of the frozen features, a ReLU, and a
// trained linear head — as many trainable weights as you like (option `width`), but no gradient information.
// Registered under a name, it trains beside the built-in models. For the command line and config files, make it a
// plugin package: `gradfeat new-plugin extractor NAME` writes one (docs/PLUGINS.md).
//
//     swift run -c release CustomExtractor [--train-size 10000] [--niter 1000] [--width 2048]
import ArgumentParser
import GradFeat
import GradFeatLogging
import Layers
import Tensor

/// logits = W relu(R f(x)) + b, with R fixed and random.
struct RandomFeatures: StoredParameterExtractor {
    var featureNetwork: Sequential
    var projection: Dense // R, frozen
    var namedParameters: NamedParameters // (W, b), trained in place

    init(context: ExtractorContext, width: Int) throws {
        var rng = SeededRandom(seed: context.seed ^ 0xF00D)
        featureNetwork = try context.network.top(splitAt: context.split).foldingBatchNorm()
        projection = Dense(inputs: context.network.featureCount, outputs: width, rng: &rng)
        namedParameters = NamedParameters(
            names: ["head.weight", "head.bias"],
            tensors: Dense(inputs: width, outputs: context.classes, rng: &rng).parameters)
    }

    /// The pass is the random features relu(R f): the head's gradients read them.
    func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
        let features = try ReLU().forward(try projection.forward(try featureNetwork.forward(input)))
        return ExtractorOutput(
            logits: try Dense(weight: parameters[0], bias: parameters[1]).forward(features),
            pass: features, mode: mode)
    }

    func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
        try linearHeadGradients(features: output.pass, logitsGradient: logitsGradient)
    }
}

@main
struct CustomExtractorExample: ParsableCommand {
    @Option var trainSize = 10_000
    @Option var niter = 1_000
    @Option var width = 2_048
    @Option var seed: UInt64 = 0
    @Option var output = "runs/customextractor"

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        // 1. Register the extractor, with its option `width` (from the spec, a config file or the command line).
        try Plugins.shared.extractors.register(
            ExtractorPlugin(
                name: "random-features", summary: "W relu(R f) + b, R random", options: ["width": "random features"]
            ) { context, options in
                let width = try options.decode([String: Int].self, for: "extractor 'random-features'")["width"] ?? 2_048
                return try RandomFeatures(context: context, width: width)
            })

        // 2. The same experiment as the built-ins, with the custom extractor beside them (Fashion-MNIST from Debian).
        let spec = ExperimentSpec(
            data: DataSpec(dataset: "fashion-mnist", trainSize: trainSize), model: BiganCIFAR.smallName,
            split: "conv5", linearize: ["conv5"],
            extractors: [
                ExtractorSpec("activation"), ExtractorSpec("random-features", options: ["width": .int(Int64(width))]),
                ExtractorSpec("gradfeat"),
            ],
            pretrain: .rotation, pretrainIterations: 300, training: .paper(iterations: niter, seed: seed),
            output: output, title: "A custom extractor beside GradFeat (Fashion-MNIST)")
        print(try Experiment(spec).run().summary)
    }
}
