import ArgumentParser
import Foundation
import GradFeat

/// The main job: the paper's comparison end to end on real data, in a few minutes.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Pre-train a base network by rotation prediction, cache its activations, and compare the "
            + "activation, gradient, full GradFeat and fine-tuning models.",
        discussion: """
            `gradfeat train` with the demo's defaults: Fashion-MNIST (from Debian), bigan-small pre-trained here \
            by rotation prediction for 400 iterations, θ2 = conv5 linearized, 1,500 iterations per model, run \
            folder runs/demo. Every `train` option applies.
            """)

    @OptionGroup var options: ExperimentOptions

    @Option(help: "Extractors to train in order, comma-separated.", completion: RegistryCompletion.extractors)
    var extractor: String?

    /// The demo's defaults, under every option and config key.
    static var defaults: ExperimentSpec {
        var training = TrainingConfiguration.paper(iterations: 1_500)
        training.evaluateEvery = 150
        return ExperimentSpec(
            model: BiganCIFAR.smallName, split: "conv5", linearize: ["conv5"], pretrain: .rotation,
            pretrainIterations: 400, training: training, output: "runs/demo",
            title: "GradFeat demo: the four models on a network pre-trained here without labels")
    }

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let spec = try options.spec(defaults: Self.defaults, extractors: extractor)
        print(try Experiment(spec, plugins: GradFeatCLI.plugins, quiet: options.run.quiet).run().summary)
    }
}
