// The `gradfeat` command-line tool: GradFeat (Mu, Liang, Li, ICLR 2020) from data to results table.
import ArgumentParser
import Foundation

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

    /// Parses `arguments` (without the program name) with a `--config` file's run keys expanded
    /// (`ConfigFileArguments`), then runs the subcommand.
    static func run(arguments: [String]) async throws {
        var command = try parseAsRoot(try ConfigFileArguments.expand(arguments))
        if var command = command as? AsyncParsableCommand {
            try await command.run()
        } else {
            try command.run()
        }
    }

    static func main() async {
        do {
            try await run(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            exit(withError: error)
        }
    }
}
