import ArgumentParser
import Foundation
import GradFeat

/// `gradfeat new-plugin extractor NAME --output DIR`: a package that depends on GradFeat, with one working
/// extractor, a conformance test and an executable that is the whole CLI with the plugin registered.
struct NewPluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-plugin",
        abstract: "Write a plugin package: an extractor, its conformance test, and the CLI with it registered.",
        discussion: """
            gradfeat new-plugin extractor probe-ext --output ../probe-ext
            cd ../probe-ext && swift build -c release && swift test
            swift run -c release probe-ext train --extractor activation,probe-ext,gradfeat --output runs/probe
            swift run -c release probe-ext eval --run runs/probe
            NAME is kebab case (lower-case words joined by '-'); the package's types and modules are its \
            UpperCamelCase form (ProbeExt, ProbeExtCLI, ProbeExtTests) and its executable is NAME.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case extractor }

    @Argument(help: "What the plugin provides: extractor.")
    var kind: Kind

    @Argument(help: "The plugin's name in kebab case, e.g. probe-ext.")
    var name: String

    @Option(help: "The folder to create (must not exist, or be empty).")
    var output: String

    @Option(help: "The GradFeat checkout the package depends on (default: the one this tool was built from).")
    var gradfeatPath: String?

    /// The package root this tool was compiled from (three folders above this file).
    static var builtFrom: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    func validate() throws {
        guard name.range(of: #"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"#, options: .regularExpression) != nil else {
            throw ValidationError(
                "NAME '\(name)' is not kebab case: write lower-case words of letters and digits joined by '-' (probe-ext)"
            )
        }
        let reserved = [
            "GradFeat", "GradFeatCLI", "GradFeatTesting", "Tensor", "Layers", "HDF5", "Datasets",
            "TestSupport", "Quickstart", "Transfer", "Ablation", "Unsupervised", "SelfSupervised",
            "CustomExtractor", "Solvers", "ConvBench", "StepBench", "SolverBench", "StreamBench",
            "SampleGradientBench", "GradFeatLogging", "ArgumentParser", "Yams", "Logging", "InMemoryLogging",
            "SymbolKit", "Snippets", "SwiftDocCPluginUtilities",
        ]
        let camel = Self.upperCamelCase(name)
        if reserved.contains(where: { $0.lowercased() == camel.lowercased() || $0 + "CLI" == camel }) {
            throw ValidationError(
                "NAME '\(name)' gives the module \(camel), which GradFeat's package graph already has; choose another")
        }
        if GradFeatCLI.plugins.extractors.contains(name) {
            throw ValidationError("NAME '\(name)' is a built-in extractor; choose another")
        }
    }

    static func upperCamelCase(_ kebab: String) -> String {
        kebab.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    func run() throws {
        let target = URL(fileURLWithPath: output).standardizedFileURL
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            let contents =
                isDirectory.boolValue ? try FileManager.default.contentsOfDirectory(atPath: target.path) : ["(a file)"]
            guard contents.isEmpty else {
                throw ValidationError(
                    "--output \(target.path) exists and is not empty: nothing was written; pass a new folder")
            }
        }
        let gradfeat = URL(fileURLWithPath: gradfeatPath ?? Self.builtFrom.path).standardizedFileURL
        guard FileManager.default.fileExists(atPath: gradfeat.appendingPathComponent("Package.swift").path) else {
            throw ValidationError(
                "\(gradfeat.path) holds no Package.swift: pass --gradfeat-path with your GradFeat checkout")
        }
        let files = PluginTemplate(name: name, gradfeat: gradfeat).files
        // Everything is written into a sibling temporary folder and renamed into place: a failure leaves nothing.
        let parent = target.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(
            ".\(target.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: staging)
        do {
            for (path, text) in files {
                let url = staging.appendingPathComponent(path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
            try FileManager.default.moveItem(at: staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        print("wrote \(files.count) files to \(target.path) (depends on \(gradfeat.path)):")
        for path in files.keys.sorted() { print("  \(path)") }
        print(
            """

            next:
              cd \(target.path)
              swift build -c release && swift test
              swift run -c release \(name) train --extractor activation,\(name),gradfeat --train-size 2000 --niter 300 --output runs/\(name)
              swift run -c release \(name) eval --run runs/\(name)
            """)
    }
}
