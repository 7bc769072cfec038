import PackagePlugin

/// `swift package --allow-writing-to-package-directory cache-dataset …`: builds `gradfeat` in release and runs
/// `gradfeat cache …` with the same arguments.
@main
struct CacheDataset: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        Diagnostics.error("cache-dataset: not implemented yet")
    }
}
