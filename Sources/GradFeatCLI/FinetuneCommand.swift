import ArgumentParser
import Foundation
import GradFeat

/// Fine-tuning, the reference GradFeat approximates: `gradfeat train --extractor finetune` under its own name.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune the top layers θ2 and the head by backpropagation: the reference GradFeat approximates.",
        discussion: """
            The same run as `gradfeat train --extractor finetune`, with the same options and the same run folder: \
            the frozen bottom's activations are cached in OUTPUT/activations-{train,test}.h5 (reused while their \
            producer is unchanged), the layers named by --linearize and the head are trained, and OUTPUT gets the \
            checkpoint finetune.h5, config.json (the resolved configuration), results.md, metrics.csv and \
            accuracy.svg. The head starts from --omega (an activation model's checkpoint) when given, else from \
            the weights' head when it has the task's classes, else from a seeded initialisation. Compare with \
            the linear models by `gradfeat report OUTPUT OTHER-RUN`, or train all four with `gradfeat train`.
            """)

    @OptionGroup var options: ExperimentOptions

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let spec = try options.spec(defaults: ExperimentSpec(output: "runs/finetune"), fixedExtractors: ["finetune"])
        print(try Experiment(spec, plugins: GradFeatCLI.plugins, quiet: options.run.quiet).run().summary)
    }
}
