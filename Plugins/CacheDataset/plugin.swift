import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory cache-dataset …`: builds `gradfeat` in release and runs
/// `gradfeat cache …` with the same arguments, from the package's folder (so relative paths are the package's).
///
/// ```
/// swift package --allow-writing-to-package-directory cache-dataset \
///     --format fashion-mnist --source /usr/share/datasets/fashion-mnist --split test --output fm-test.h5
/// ```
@main
struct CacheDataset: CommandPlugin {
    /// Errors of the plugin; SwiftPM prints them after the diagnostics.
    enum Failure: Error, CustomStringConvertible {
        case buildFailed(String)
        case toolNotFound
        case toolFailed(status: Int32)

        var description: String {
            switch self {
            case .buildFailed(let log): "building gradfeat failed:\n\(log)"
            case .toolNotFound: "the build did not produce the gradfeat executable"
            case .toolFailed(let status): "cache-dataset failed (gradfeat status \(status)); no cache file was written"
            }
        }
    }

    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let result = try packageManager.build(
            .product("gradfeat"), parameters: .init(configuration: .release, logging: .concise))
        guard result.succeeded else {
            Diagnostics.error("cache-dataset: building gradfeat (release) failed")
            throw Failure.buildFailed(result.logText)
        }
        guard
            let tool = result.builtArtifacts.first(where: {
                $0.kind == .executable && $0.url.lastPathComponent == "gradfeat"
            })
        else {
            Diagnostics.error("cache-dataset: the build did not produce the gradfeat executable")
            throw Failure.toolNotFound
        }

        let process = Process()
        process.executableURL = tool.url
        process.arguments = ["cache"] + arguments
        process.currentDirectoryURL = context.package.directoryURL
        // Standard input, output and error are inherited: progress and errors reach the terminal as they happen.
        try process.run()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let status = process.terminationStatus
            let command = (["gradfeat", "cache"] + arguments).joined(separator: " ")
            Diagnostics.error(
                process.terminationReason == .exit
                    ? "`\(command)` exited with status \(status)"
                    : "`\(command)` was stopped by signal \(status)")
            throw Failure.toolFailed(status: status)
        }
    }
}
