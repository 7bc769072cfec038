import Foundation
import GradFeat
import HDF5
import Layers
import Tensor
import TestSupport
import Testing

/// Parity with PyTorch: the fixtures in Tests/Fixtures (written by Tests/Fixtures/make_fixtures.py from seeded
/// random weights) hold PyTorch's logits, JVPs (torch.func.jvp) and parameter gradients (autograd) for bigan-cifar
/// and ResNet18 at reduced width; GradFeat must reproduce them to a relative error of 1e-4.
@Suite struct ParityTests {
    static let tolerance = 1e-4

    static func fixtureURL(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
    }

    /// One model's fixture: the network loaded from its weights file, and the parity file.
    struct Fixture {
        var network: Network
        var file: HDF5File
        var input: Tensor

        func tensor(_ path: String) throws -> Tensor {
            let dataset = try file.dataset(named: path)
            return try Tensor(shape: Shape(dataset.shape), scalars: try dataset.read())
        }
    }

    static func load(_ model: String, fresh: Network) throws -> Fixture {
        let weights = fixtureURL("\(model)-weights.h5")
        let report = try WeightsFile.check(weights, against: fresh)
        #expect(report.isExact, "\(report)")
        let network = try WeightsFile.load(weights, into: fresh)
        let file = try HDF5File(url: fixtureURL("\(model)-parity.h5"))
        try file.requireFormat("gradfeat-parity", version: 1)
        let pixelsData = try file.dataset(named: "pixels")
        let pixels: [UInt8] = try pixelsData.read()
        // The input as the model scales uint8 pixels (documented per model in docs/PYTORCH.md).
        let input = pixels.withUnsafeBufferPointer { network.inputScaling.apply($0, shape: Shape(pixelsData.shape)) }
        let fixture = Fixture(network: network, file: file, input: input)
        expectClose(input, try fixture.tensor("input"), "input scaling", tolerance: 1e-6)
        return fixture
    }

    static func expectClose(
        _ actual: Tensor, _ expected: Tensor, _ what: String, tolerance: Double = tolerance,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            actual.shape == expected.shape, "\(what): shape \(actual.shape) ≠ \(expected.shape)",
            sourceLocation: sourceLocation)
        let error = relativeError(actual, expected)
        #expect(error <= tolerance, "\(what): relative error \(error)", sourceLocation: sourceLocation)
    }

    static func bigan() throws -> Fixture {
        try load("bigan-cifar", fresh: BiganCIFAR.make(classes: 10, widthDivisor: 8, seed: 0))
    }

    static func resnet() throws -> Fixture {
        try load("resnet18", fresh: ResNet.make(.resnet18, classes: 5, inputSize: 48, width: 4, seed: 0))
    }

    // MARK: - Names and shapes of the full-size models

    static func expectFullSizeStructure(_ fixture: Fixture, _ network: Network) throws {
        let names: [String] = try fixture.file.attribute("full_size_names")
        let json: String = try fixture.file.attribute("full_size_shapes")
        let shapes = try JSONDecoder().decode([String: [Int]].self, from: Data(json.utf8))
        let ours = Dictionary(uniqueKeysWithValues: network.stateDict.map { ($0.name, $0.value.shape.dimensions) })
        let oursOnly = Set(ours.keys).subtracting(names).sorted(),
            theirsOnly = Set(names).subtracting(ours.keys).sorted()
        #expect(
            oursOnly.isEmpty && theirsOnly.isEmpty, "names differ: ours only \(oursOnly), PyTorch only \(theirsOnly)")
        for name in names where ours[name] != nil {
            #expect(ours[name] == shapes[name], "\(name): ours \(ours[name]!) PyTorch \(shapes[name] ?? [])")
        }
    }

    @Test func fullSizeNamesAndShapesMatchPyTorch() throws {
        try Self.expectFullSizeStructure(try Self.bigan(), BiganCIFAR.make(classes: 10, seed: 0))
        try Self.expectFullSizeStructure(try Self.resnet(), ResNet.make(.resnet18, classes: 1000, seed: 0))
    }

    // MARK: - Logits, JVP and gradients of the whole network (evaluation mode)

    static func expectNetworkParity(_ fixture: Fixture) throws {
        let network = fixture.network, x = fixture.input
        expectClose(try network.logits(x), try fixture.tensor("logits"), "logits")

        // JVP over the input and every parameter of backbone and head.
        let backboneTangent = try network.backbone.parameterNames.map { try fixture.tensor("jvp/parameters/\($0)") }
        let headTangent = try network.head.layer.parameterNames.map { try fixture.tensor("jvp/parameters/fc.\($0)") }
        let (features, featureTangent) = try network.backbone.jvp(
            x, tangent: try fixture.tensor("jvp/input_tangent"), parameterTangent: backboneTangent)
        let (_, logitsTangent) = try network.head.layer.jvp(
            features, tangent: featureTangent, parameterTangent: headTangent)
        expectClose(logitsTangent, try fixture.tensor("jvp/logits"), "JVP of the logits")

        // Gradients of sum(u · logits) for every parameter and the input.
        let u = try fixture.tensor("vjp/cotangent")
        let pass = try network.backbone.apply(x, tangent: nil, parameterTangent: nil, mode: .evaluation)
        let head = try network.head.layer.vjp(pass.value, outputGradient: u)
        let backbone = try network.backbone.vjp(
            pass.record, outputGradient: head.gradients.input!, needInputGradient: true, mode: .evaluation)
        expectClose(backbone.input!, try fixture.tensor("vjp/input"), "input gradient")
        let names = network.backbone.parameterNames + network.head.layer.parameterNames.map { "fc.\($0)" }
        for (name, gradient) in zip(names, backbone.parameters + head.gradients.parameters) {
            expectClose(gradient, try fixture.tensor("vjp/parameters/\(name)"), "gradient of \(name)")
        }
    }

    @Test func biganLogitsJVPAndGradients() throws { try Self.expectNetworkParity(try Self.bigan()) }

    @Test func resnet18LogitsJVPAndGradients() throws { try Self.expectNetworkParity(try Self.resnet()) }

    @Test func resnet18TrainingModeBatchStatistics() throws {
        let fixture = try Self.resnet()
        var network = fixture.network
        let pass = try network.backbone.apply(fixture.input, tangent: nil, parameterTangent: nil, mode: .training())
        Self.expectClose(
            try network.head.logits(pass.value), try fixture.tensor("train/logits"), "training-mode logits")
        network.backbone.updateStatistics(from: pass.record)
        for (name, value) in zip(network.backbone.bufferNames, network.backbone.buffers) {
            Self.expectClose(value, try fixture.tensor("train/running/\(name)"), "updated \(name)")
        }
    }

    // MARK: - GradFeat's activation and gradient terms, and its parameter gradients

    /// bigan-cifar against the official code's forward-mode JVP (NTK parametrization, w2 on conv4 and conv5);
    /// ResNet18 with layer4.1 linearized (batch norm folded) in the standard parametrization.
    static func expectGradFeatParity(_ fixture: Fixture) throws {
        let group = try fixture.file.group(named: "gradfeat")
        let split: String = try group.attribute("split")
        let linearize: [String] = try group.attribute("linearize")
        let names: [String] = try group.attribute("parameter_names")
        let parametrization = try #require(Parametrization(rawValue: try group.attribute("parametrization")))
        var extractor = try GradFeatFeatures(
            network: fixture.network, splitAt: split, linearize: linearize, omegaBar: fixture.network.head,
            parametrization: parametrization)
        #expect(extractor.parameterNames == names)
        extractor.parameters = try names.map { try fixture.tensor("gradfeat/parameters/\($0)") }

        let z0 = try fixture.network.bottom(fixture.input, splitAt: split)
        let output = try extractor.forward(z0, mode: .evaluation)
        expectClose(output.activationTerm!, try fixture.tensor("gradfeat/activation_term"), "activation term")
        expectClose(output.gradientTerm!, try fixture.tensor("gradfeat/gradient_term"), "gradient term")
        expectClose(output.logits, try fixture.tensor("gradfeat/logits"), "GradFeat logits")

        let gradients = try extractor.parameterGradients(output, logitsGradient: try fixture.tensor("vjp/cotangent"))
        for (name, gradient) in zip(names, gradients) {
            expectClose(gradient, try fixture.tensor("gradfeat/gradients/\(name)"), "GradFeat gradient of \(name)")
        }
    }

    @Test func biganGradFeatMatchesOfficialCode() throws { try Self.expectGradFeatParity(try Self.bigan()) }

    @Test func resnet18GradFeatOnLayer4_1() throws { try Self.expectGradFeatParity(try Self.resnet()) }
}
