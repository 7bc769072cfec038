// The `gradfeat` command-line tool: GradFeat (Mu, Liang, Li, ICLR 2020) from data to results table.
import ArgumentParser

@main
struct GradFeatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradfeat",
        abstract: "Gradients as features: adapt a pre-trained network with activation and gradient features.",
        discussion: """
            Start with `gradfeat demo`: it pre-trains a small network without labels, caches its activations in \
            HDF5, trains the activation, gradient, full GradFeat and fine-tuning models and prints the table.
            """,
        subcommands: [DemoCommand.self, CacheCommand.self, PretrainCommand.self, TrainCommand.self, FinetuneCommand.self, EvalCommand.self, ReportCommand.self, ExtractCommand.self, ListCommand.self, BenchCommand.self, ImportCommand.self, PredictCommand.self])
}
