import Foundation
import GradFeat
import GradFeatTesting
import Layers
import Tensor
import Testing

/// The registries, the `Head` protocol and the conformance kit, on the built-ins and on deliberately broken plugins.
@Suite struct PluginTests {
    @Test func aNameRegisteredTwiceIsRefusedWithBothPlaces() throws {
        let plugins = Plugins()
        let entry = ExtractorPlugin(name: "twice", summary: "once") { context, _ in
            try ActivationFeatures(network: context.network, splitAt: context.split, classes: context.classes, seed: 0)
        }
        try plugins.extractors.register(entry)
        let error = #expect(throws: GradFeatError.self) { try plugins.extractors.register(entry) }
        #expect(error?.description.contains("PluginTests.swift") == true)
        #expect(error?.description.contains("registered twice") == true)
        #expect(throws: GradFeatError.self) {
            try plugins.extractors.register(ExtractorPlugin(name: "activation", summary: "") { _, _ in fatalError() })
        }
        #expect(throws: GradFeatError.self) { try plugins.models.register(try plugins.models.entry("resnet18")) }
        #expect(throws: GradFeatError.self) { try plugins.datasets.entry("nope") }
        #expect(throws: (any Error).self) {
            try plugins.heads.register(HeadPlugin(name: "Bad Name", summary: "") { _ in fatalError() })
        }
        #expect(Plugins(builtIns: false).extractors.names.isEmpty)
    }

    @Test func everyBuiltInExtractorPassesTheConformanceKit() throws {
        for name in Plugins.shared.extractors.names {
            // The small network's θ2 has 185 parameters, fewer than projected-gradient's default K.
            let options = name == "projected-gradient" ? PluginOptions(["dimension": .int(16)]) : PluginOptions()
            try ExtractorConformance.check(try Plugins.shared.extractors.entry(name), options: options)
        }
    }

    /// The kit fails an extractor whose gradient is wrong by a factor, and one that ignores its parameters' setter.
    @Test func theKitCatchesAWrongGradient() throws {
        struct DoubledGradient: FeatureExtractor {
            var inner: ActivationFeatures
            var namedParameters: NamedParameters {
                get { inner.namedParameters }
                set { inner.namedParameters = newValue }
            }
            func forward(_ input: Tensor, mode: Mode) throws -> ExtractorOutput<Tensor> {
                try inner.forward(input, mode: mode)
            }
            func parameterGradients(_ output: ExtractorOutput<Tensor>, logitsGradient: Tensor) throws -> [Tensor] {
                try inner.parameterGradients(output, logitsGradient: logitsGradient).map { 2 * $0 }
            }
        }
        let wrong = ExtractorPlugin(name: "doubled", summary: "") { context, _ in
            DoubledGradient(
                inner: try ActivationFeatures(
                    network: context.network, splitAt: context.split,
                    classes: context.classes, seed: 1))
        }
        let failure = #expect(throws: ConformanceFailure.self) { try ExtractorConformance.check(wrong) }
        #expect(failure?.problems.contains { $0.contains("finite differences") } == true)
        #expect(failure?.problems.count == 1, "only the gradient is wrong: \(failure?.problems ?? [])")
    }

    @Test func headsKeepTheHeadContract() throws {
        var rng = SeededRandom(seed: 3)
        try HeadConformance.check(LinearHead(features: 6, classes: 4, rng: &rng))
        try HeadConformance.check(MLPHead(features: 6, hidden: 9, classes: 4, rng: &rng))
        let mlp = try Plugins.shared.heads.entry("mlp").make(
            HeadRequest(features: 6, classes: 4, seed: 1, options: PluginOptions(["hidden": .int(5)])))
        #expect((mlp as? MLPHead)?.hiddenCount == 5)
        #expect(throws: ConfigError.self) {
            try Plugins.shared.heads.entry("mlp").make(
                HeadRequest(features: 6, classes: 4, seed: 1, options: PluginOptions(["hidden": .string("many")])))
        }
    }

    /// The gradient model around a non-linear ω̄: its gradient term is the MLP head's JVP of ḟ, its gradients pass
    /// the kit's finite differences.
    @Test func theGradientModelGeneralisesToAnMLPHead() throws {
        let plugin = ExtractorPlugin(name: "mlp-gradient", summary: "", needs: [.labels, .omegaBar]) { context, _ in
            var rng = SeededRandom(seed: 4)
            let head = MLPHead(features: context.network.featureCount, hidden: 7, classes: context.classes, rng: &rng)
            return try GradientFeatures(
                network: context.network, splitAt: context.split, linearize: context.linearize,
                omegaBar: head)
        }
        try ExtractorConformance.check(plugin)
        // At w2 = ε·v, the logits are ε times the head's JVP along J v (the model is linear in w2).
        let context = try ExtractorConformance.smallContext()
        var extractor = try plugin.make(context, PluginOptions())
        var rng = SeededRandom(seed: 5)
        extractor.parameters = extractor.parameters.map { Tensor.normal($0.shape, using: &rng) }
        let input = try context.network.bottom(splitAt: context.split).forward(
            Tensor.normal([3, 3, 8, 8], using: &rng))
        let once = try extractor.logits(input)
        extractor.parameters = extractor.parameters.map { 2 * $0 }
        let twice = try extractor.logits(input)
        for (a, b) in zip(once.scalars, twice.scalars) { #expect(abs(2 * a - b) <= 1e-4 * max(1, abs(b))) }
    }

    @Test func pluginOptionsAreTypedAndNamed() throws {
        struct Options: Decodable { var width: Int }
        let options = PluginOptions(
            ["width": .string("wide")], origins: ["width": "config file run.yaml, line 3, column 9"])
        let error = #expect(throws: ConfigError.self) { try options.decode(Options.self, for: "extractor 'x'") }
        #expect(
            error?.description.contains("line 3, column 9") == true && error?.description.contains("'width'") == true)
        let unknown = #expect(throws: ConfigError.self) {
            try PluginOptions(["depth": .int(1)]).decode(Options.self, for: "extractor 'x'", known: ["width"])
        }
        #expect(unknown?.description.contains("no option 'depth'") == true)
        #expect(try PluginOptions(["width": .int(3)]).decode(Options.self, for: "x").width == 3)
    }
}

/// Two runs into one folder cannot mix: the second is refused while the first holds the folder.
@Suite struct RunLockTests {
    @Test func aSecondRunIntoTheSameFolderIsRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-lock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let first = try RunLock(folder)
            let refusal = #expect(throws: GradFeatError.self) { try RunLock(folder) }
            #expect(refusal?.description.contains("in use by another gradfeat run") == true)
            withExtendedLifetime(first) {}
        }
        _ = try RunLock(folder) // released with the first
    }
}
