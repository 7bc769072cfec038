import Foundation

/// The files of a new plugin package (`gradfeat new-plugin`), by path: a package named after the plugin, with
/// modules `<Camel>` (the extractor), `<Camel>CLI` (the executable NAME: every gradfeat command with the plugin
/// registered) and `<Camel>Tests` (the conformance kit on it).
struct PluginTemplate {
    /// The plugin's kebab-case name, and its UpperCamelCase form for types and modules.
    let name: String
    let camel: String
    /// The GradFeat checkout depended on, and its package identity (a path dependency's is its folder's name).
    let gradfeat: URL
    let identity: String

    init(name: String, gradfeat: URL) {
        self.name = name
        camel = NewPluginCommand.upperCamelCase(name)
        self.gradfeat = gradfeat
        identity = gradfeat.lastPathComponent.lowercased()
    }

    var files: [String: String] {
        [
            "Package.swift": package,
            "Sources/\(camel)/\(camel)Extractor.swift": extractor,
            "Sources/\(camel)CLI/main.swift": executable,
            "Tests/\(camel)Tests/\(camel)ConformanceTests.swift": tests,
            "README.md": readme,
            ".gitignore": ".build/\n.build*/\nPackage.resolved\n.swiftpm/\n/runs/\n",
        ]
    }

    var package: String {
        """
        // swift-tools-version:6.0
        // \(name): a GradFeat plugin package (written by `gradfeat new-plugin extractor \(name)`).
        import PackageDescription

        let package = Package(
            name: "\(camel)",
            platforms: [.macOS(.v15)],
            products: [
                .library(name: "\(camel)", targets: ["\(camel)"]),
                // Every `gradfeat` command with \(name) registered: `swift run -c release \(name) train …`.
                .executable(name: "\(name)", targets: ["\(camel)CLI"]),
            ],
            dependencies: [
                // A path dependency's package identity is its folder's name ("\(identity)").
                .package(path: "\(gradfeat.path)"),
            ],
            targets: [
                .target(
                    name: "\(camel)", dependencies: [.product(name: "GradFeat", package: "\(identity)")],
                    path: "Sources/\(camel)"),
                .executableTarget(
                    name: "\(camel)CLI",
                    dependencies: ["\(camel)", .product(name: "GradFeatCLI", package: "\(identity)")],
                    path: "Sources/\(camel)CLI"),
                .testTarget(
                    name: "\(camel)Tests",
                    dependencies: ["\(camel)", .product(name: "GradFeatTesting", package: "\(identity)")],
                    path: "Tests/\(camel)Tests"),
            ]
        )

        """
    }

    var extractor: String {
        """
        // \(name): a GradFeat extractor plugin. A random-feature baseline over the base network's frozen features:
        //
        //     F(x) = W relu(R f(x)) + b        R fixed and seeded, (W, b) trained
        //
        // It has as many trainable weights as you like (option `width`) but no gradient information, so it tells
        // how much of GradFeat's gain over the activation baseline is the gradient features' and how much is width.
        // Replace `forward` and `parameterGradients` with your own model: `swift test` checks them against finite
        // differences with GradFeat's conformance kit.
        import GradFeat
        import Layers
        import Tensor

        public struct \(camel)Extractor: StoredParameterExtractor {
            /// The options, from a config file (`mode: [{name: \(name), options: {width: 256}}]`) or the command line
            /// (`--extractor-option \(name).width=256`).
            public struct Options: Decodable, Sendable {
                public var width = 512

                enum CodingKeys: String, CodingKey { case width }

                public init() {}

                public init(from decoder: any Decoder) throws {
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    width = try container.decodeIfPresent(Int.self, forKey: .width) ?? width
                }
            }

            /// The registry entry: register it in `Plugins.shared.extractors` and every command finds `\(name)`.
            public static let plugin = ExtractorPlugin(
                name: "\(name)",
                summary: "W relu(R f(x)) + b with R fixed and random (a random-feature baseline)",
                needs: [.labels], options: ["width": "the number of random features (default 512)"]
            ) { context, options in
                let decoded = try options.decode(
                    Options.self, for: "extractor '\(name)'", known: ["width"])
                return try \(camel)Extractor(context: context, options: decoded)
            }

            /// The frozen layers from the cached activations to the features f (the top, batch norm folded).
            public var featureNetwork: Sequential
            /// R, fixed.
            public var projection: Dense
            /// (W, b) as trained, by name; the optimiser updates them in place (`StoredParameterExtractor`).
            public var namedParameters: NamedParameters

            public init(context: ExtractorContext, options: Options) throws {
                guard options.width > 0 else {
                    throw GradFeatError.invalidConfiguration(
                        "extractor '\(name)': width must be positive, not \\(options.width) "
                            + "(e.g. --extractor-option \(name).width=512)")
                }
                var rng = SeededRandom(seed: context.seed ^ 0x5EED)
                featureNetwork = try context.network.top(splitAt: context.split).foldingBatchNorm()
                projection = Dense(inputs: context.network.featureCount, outputs: options.width, rng: &rng)
                namedParameters = NamedParameters(
                    names: ["head.weight", "head.bias"],
                    tensors: Dense(inputs: options.width, outputs: context.classes, rng: &rng).parameters)
            }

            /// relu(R f(x)): what the trained head reads.
            public func randomFeatures(_ input: Tensor) throws -> Tensor {
                try ReLU().forward(try projection.forward(try featureNetwork.forward(input)))
            }

            /// The pass is the random features h: the head's gradients read them.
            public func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
                let features = try randomFeatures(input)
                let head = try Dense(weight: parameters[0], bias: parameters[1])
                return ExtractorOutput(logits: try head.forward(features), pass: features, mode: mode)
            }

            /// ∂L/∂W = gᵀ h and ∂L/∂b = Σ g for the logits' gradient g and the random features h.
            public func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
                try linearHeadGradients(features: output.pass, logitsGradient: logitsGradient)
            }
        }

        """
    }

    var executable: String {
        let imports = ["Foundation", "GradFeat", "GradFeatCLI", camel].sorted().map { "import \($0)" }
        return """
            // The whole `gradfeat` command-line tool with \(name) registered:
            //     swift run -c release \(name) train --extractor activation,\(name),gradfeat …
            \(imports.joined(separator: "\n"))

            do {
                try Plugins.shared.extractors.register(\(camel)Extractor.plugin)
            } catch {
                FileHandle.standardError.write(Data("\\(error)\\n".utf8))
                exit(1)
            }
            GradFeatCLI.main()

            """
    }

    var tests: String {
        // In the order swift-format keeps them, so that a formatted package stays as written.
        let imports = ["GradFeat", "GradFeatTesting", "Testing", camel].sorted().map { "import \($0)" }
        return """
            \(imports.joined(separator: "\n"))

            @Suite struct \(camel)ConformanceTests {
                /// Gradients against finite differences, determinism, checkpoint round trip, wrong shapes thrown.
                @Test func keepsGradFeatsExtractorContract() throws {
                    try ExtractorConformance.check(\(camel)Extractor.plugin)
                }

                @Test func keepsTheContractAtAnotherWidth() throws {
                    try ExtractorConformance.check(
                        \(camel)Extractor.plugin, options: PluginOptions(["width": .int(7)]))
                }

                @Test func refusesBadOptions() {
                    #expect(throws: (any Error).self) {
                        try ExtractorConformance.check(
                            \(camel)Extractor.plugin, options: PluginOptions(["width": .int(0)]))
                    }
                    #expect(throws: ConfigError.self) {
                        try ExtractorConformance.check(
                            \(camel)Extractor.plugin, options: PluginOptions(["width": .string("wide")]))
                    }
                    #expect(throws: ConfigError.self) {
                        try ExtractorConformance.check(
                            \(camel)Extractor.plugin, options: PluginOptions(["depth": .int(2)]))
                    }
                }
            }

            """
    }

    var readme: String {
        """
        # \(name)

        A GradFeat extractor plugin, written by `gradfeat new-plugin extractor \(name)`: `\(camel)Extractor` in
        `Sources/\(camel)/` is a random-feature baseline, `F(x) = W relu(R f(x)) + b` with R fixed; replace its
        `forward` and `parameterGradients` with your own model. The package depends on GradFeat at
        `\(gradfeat.path)` (edit `Package.swift` to move it).

        ```
        swift build -c release
        swift test                                   # the conformance kit on the extractor
        swift run -c release \(name) list            # \(name) beside the built-in extractors
        swift run -c release \(name) train --extractor activation,\(name),gradfeat --train-size 2000 --niter 300 --output runs/\(name)
        swift run -c release \(name) eval --run runs/\(name)
        swift run -c release \(name) train --extractor activation,\(name) --extractor-option \(name).width=2048 --output runs/wide
        ```

        `\(name)` is every `gradfeat` command with the plugin registered (`Sources/\(camel)CLI/main.swift`), so
        config files name it too:

        ```yaml
        mode: [activation, {name: \(name), options: {width: 1024}}, gradfeat]
        ```

        """
    }
}
