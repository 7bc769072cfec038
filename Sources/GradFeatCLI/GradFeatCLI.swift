// The `gradfeat` command-line tool as a library: GradFeat (Mu, Liang, Li, ICLR 2020) from data to results table.
import ArgumentParser
import Cluster
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

    /// Runs the command line of this process, printing an error and exiting non-zero on failure. It installs
    /// GradFeat's log handler (`GradFeatLogging.bootstrap`) unless `bootstrappingLogging` is false: swift-log allows
    /// one bootstrap a process, so an executable that installs a handler of its own passes false.
    public static func main(bootstrappingLogging: Bool = true) {
        // Past `ulimit -f` the kernel kills a writer with SIGXFSZ; ignored, the write fails with EFBIG instead and
        // takes the same clean error path as a full disk (message, status 1, no file under the final name).
        signal(SIGXFSZ, SIG_IGN)
        if bootstrappingLogging { GradFeatLogging.bootstrap() }
        // Under mpirun rank 0 alone prints results, and a rank that fails ends every rank, naming itself.
        let world = (Cluster.launchedSize ?? 1) > 1 ? try? Cluster.world() : nil
        if let world, world.rank > 0 {
            let null = open("/dev/null", O_WRONLY)
            if null >= 0 { dup2(null, STDOUT_FILENO) }
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let world, world.size > 1, !distributedCommands.contains(arguments.first ?? "") {
            let message =
                "gradfeat \(arguments.first ?? "") runs in one process; under mpirun only "
                + "\(distributedCommands.sorted().joined(separator: ", ")) share their work yet (docs/DISTRIBUTED.md): "
                + "run it without mpirun"
            if world.rank == 0 { world.abort(message) }
            while true { try? world.barrier() } // rank 0's abort ends this rank
        }
        do {
            try run(arguments: arguments)
            LogOutput.standardError.endLine()
        } catch {
            let output = LogOutput.standardError
            output.endLine()
            if let world, exitCode(for: error) != .success {
                let message = fullMessage(for: readable(error))
                world.abort(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
            }
            // With --log-format json the failure is a record too, so that standard error stays JSON throughout.
            if output.format == .json, bootstrappingLogging, exitCode(for: error) != .success {
                Log.logger.error("\(fullMessage(for: readable(error)))", metadata: RunEvent.message.metadata())
                Foundation.exit(exitCode(for: error).rawValue)
            }
            exit(withError: readable(error))
        }
    }

    /// The commands that run under `mpirun`, sharing each training step between the ranks.
    static let distributedCommands: Set<String> = ["train", "finetune"]

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
