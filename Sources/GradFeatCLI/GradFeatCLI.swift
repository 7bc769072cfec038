// The `gradfeat` command-line tool as a library: GradFeat (Mu, Liang, Li, ICLR 2020) from data to results table.
import ArgumentParser
import Foundation
import GradFeat
import GradFeatLogging

/// Every `gradfeat` command. The `gradfeat` executable is `GradFeatCLI.main()`; a plugin package's executable
/// registers its plugins first and gets every command with them:
///
/// ```swift
/// import GradFeat
/// import GradFeatCLI
///
/// try Plugins.shared.extractors.register(ProbeExtractor.plugin)
/// GradFeatCLI.main()
/// ```
public struct GradFeatCLI: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gradfeat",
        abstract: "Gradients as features: adapt a pre-trained network with activation and gradient features.",
        discussion: """
            Start with `gradfeat demo`: it pre-trains a small network without labels, caches its activations in \
            HDF5, trains the activation, gradient, full GradFeat and fine-tuning models and prints the table.
            """,
        subcommands: [
            DemoCommand.self, CacheCommand.self, PretrainCommand.self, TrainCommand.self, FinetuneCommand.self,
            EvalCommand.self, ReportCommand.self, ExtractCommand.self, ListCommand.self, BenchCommand.self,
            ImportCommand.self, PredictCommand.self, NewPluginCommand.self, AttributeCommand.self, DiagnoseCommand.self,
        ])

    /// The registries the commands read names from.
    public static var plugins: Plugins { Plugins.shared }

    public init() {}

    /// Parses `arguments` (without the program name) and runs the subcommand.
    public static func run(arguments: [String]) throws {
        var command = try parseAsRoot(arguments)
        try command.run()
    }

    /// Runs the command line of this process, printing an error and exiting non-zero on failure.
    public static func main() {
        // Past `ulimit -f` the kernel kills a writer with SIGXFSZ; ignored, the write fails with EFBIG instead and
        // takes the same clean error path as a full disk (message, status 1, no file under the final name).
        signal(SIGXFSZ, SIG_IGN)
        GradFeatLogging.bootstrap()
        do {
            try run(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            exit(withError: readable(error))
        }
    }

    /// A Foundation file error as one line naming the file and the system's reason, instead of an
    /// `NSCocoaErrorDomain` dump; other errors unchanged.
    static func readable(_ error: any Error) -> any Error {
        guard let cocoa = error as? CocoaError else { return error }
        let path = cocoa.filePath ?? cocoa.url?.path
        var reason = cocoa.localizedDescription
        if let underlying = cocoa.underlying as NSError?, underlying.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(underlying.code)))
        }
        return FileSystemError(description: "\(path.map { "\($0): " } ?? "")\(reason)")
    }
}

/// A file-system failure, said in one line (printed as `Error: …`, status 1, without the usage text).
struct FileSystemError: Error, CustomStringConvertible {
    let description: String
}
