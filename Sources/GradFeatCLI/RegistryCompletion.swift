import ArgumentParser
import Foundation
import GradFeat

/// Shell completions from the registries (`gradfeat --generate-completion-script bash|zsh|fish`): the shell asks
/// the `gradfeat` it completes for, so a plugin package's own executable completes its own models, extractors and
/// data sets too. A comma-separated list completes its last name.
enum RegistryCompletion {
    static let models = names { $0.models.names }
    static let extractors = names { $0.extractors.names }
    /// Registered data sets and data-set caches (`.h5` files).
    static let datasets = CompletionKind.custom { _, _, typed in
        GradFeatCLI.plugins.datasets.names.sorted().filter { $0.hasPrefix(typed) } + files(typed)
    }
    static let formats = names { $0.datasets.names }

    private static func names(_ list: @escaping @Sendable (Plugins) -> [String]) -> CompletionKind {
        // The word being completed is the third argument (the shell's words and the cursor's index come first).
        .custom { _, _, typed in completions(of: typed, from: list(GradFeatCLI.plugins)) }
    }

    /// `names` that complete the last item of `typed` (a comma-separated list), with the items before it.
    static func completions(of typed: String, from names: [String]) -> [String] {
        let items = typed.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let prefix = items.dropLast().map { $0 + "," }.joined()
        let last = items.last ?? ""
        return names.sorted().filter { $0.hasPrefix(last) }.map { prefix + $0 }
    }

    /// `.h5` files and folders that complete `typed` as a path.
    private static func files(_ typed: String) -> [String] {
        let slash = typed.lastIndex(of: "/")
        let folder = slash.map { String(typed[...$0]) } ?? ""
        let stem = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        return entries.sorted().filter {
            $0.hasPrefix(stem) && (!$0.hasPrefix(".") || stem.hasPrefix("."))
                && ($0.hasSuffix(".h5") || isFolder(folder + $0))
        }
        .map { folder + $0 + (isFolder(folder + $0) ? "/" : "") }
    }

    private static func isFolder(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
