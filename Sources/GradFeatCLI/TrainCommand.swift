import ArgumentParser
import Foundation
import GradFeat

/// Training extractors on cached activations of a base network, with checkpoints and resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train extractors (activation, gradient, gradfeat, finetune or a registered one) on a data set.",
        discussion: """
            The frozen bottom's activations are cached in OUTPUT/activations-{train,test}.h5 and reused while \
            their producer (weights, layer, images, scaling) is unchanged — also when `gradfeat cache \
            --activations` wrote them. Each extractor writes OUTPUT/<name>.h5 checkpoints; --resume continues them \
            exactly. OUTPUT also gets config.json (the resolved configuration), results.md, metrics.csv and \
            accuracy.svg; `gradfeat eval --run OUTPUT` scores the trained extractors again. Every option is also \
            a config-file key (--config); options given here win over the file, the file over the preset.
            """)

    @OptionGroup var options: ExperimentOptions

    @Option(
        help:
            "Extractors to train in order, comma-separated (default: activation,gradient,gradfeat,finetune); gradient models use ω̄ from the activation model.",
        completion: RegistryCompletion.extractors)
    var extractor: String?

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let spec = try options.spec(defaults: ExperimentSpec(output: "runs/train"), extractors: extractor)
        print(try Experiment(spec, plugins: GradFeatCLI.plugins, quiet: options.run.quiet).run().summary)
    }
}
