import GradFeat
import Layers
import Tensor
import TestSupport
import Testing

/// The GradFeat models against their definitions (METHOD.md).
@Suite struct GradFeatModelTests {
    /// A small network of the paper's shape: conv · leaky ReLU stacks, a residual block, global pool, head.
    static func smallNetwork(seed: UInt64 = 1, classes: Int = 3) -> Network {
        var rng = SeededRandom(seed: seed)
        let backbone = Sequential([
            NamedLayer("conv1", Conv2D(3, 6, kernel: 3, rng: &rng)),
            NamedLayer("lrelu1", LeakyReLU(slope: 0.01)),
            NamedLayer("conv2", Conv2D(6, 8, kernel: 3, stride: 2, rng: &rng)),
            NamedLayer("lrelu2", LeakyReLU(slope: 0.01)),
            NamedLayer("block", Residual.basicBlock(inChannels: 8, outChannels: 8, rng: &rng)),
            NamedLayer("conv3", Conv2D(8, 10, kernel: 2, rng: &rng)),
            NamedLayer("lrelu3", LeakyReLU(slope: 0.01)),
            NamedLayer("pool", GlobalAvgPool()),
        ])
        var network = Network(
            modelName: "small", backbone: backbone, head: LinearHead(features: 10, classes: classes, rng: &rng),
            inputShape: [3, 9, 9], inputScaling: .unit)
        // Non-trivial batch-norm statistics, so folding is exercised.
        var bnRng = SeededRandom(seed: seed + 100)
        for i in network.backbone.layers.indices {
            if var block = network.backbone.layers[i].layer as? Residual {
                block.buffers = block.buffers.map { buffer in
                    Tensor.uniform(buffer.shape, low: 0.5, high: 1.5, using: &bnRng)
                }
                network.backbone.layers[i].layer = block
            }
        }
        return network
    }

    static func input(_ n: Int = 4, seed: UInt64 = 2) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor.uniform([n, 3, 9, 9], low: 0, high: 1, using: &rng)
    }

    @Test(arguments: Parametrization.allCases)
    func fullModelAtInitialisationReproducesThePretrainedLogits(parametrization: Parametrization) throws {
        let network = Self.smallNetwork()
        let x = Self.input()
        let z0 = try network.bottom(x, splitAt: "block")
        let model = try GradFeatFeatures(
            network: network, splitAt: "block", linearize: ["block", "conv3"], omegaBar: network.head,
            parametrization: parametrization)
        let logits = try model.logits(z0)
        let reference = try network.logits(x)
        #expect(relativeError(logits, reference) <= 1e-5, "relative error \(relativeError(logits, reference))")
        #expect(model.gradient.parameters.allSatisfy { $0.maxAbs() == 0 })
    }

    /// The gradient term against `(F(θ̄2 + r w2) − F(θ̄2 − r w2)) / 2r` and against the explicit Jacobian.
    @Test(arguments: [["conv3"], ["block", "conv3"], ["conv2", "block", "conv3"]])
    func gradientTermIsTheDirectionalDerivative(linearize: [String]) throws {
        let network = Self.smallNetwork()
        let x = Self.input()
        let split = linearize.first!
        let z0 = try network.bottom(x, splitAt: split)
        var model = try GradientFeatures(
            network: network, splitAt: split, linearize: linearize, omegaBar: network.head, parametrization: .standard)
        var rng = SeededRandom(seed: 3)
        let w2 = model.tangent.map { randomTensor($0.shape, &rng, scale: 0.1) }
        model.tangent = w2
        let gradientTerm = try model.logits(z0)

        // F(θ̄2 ± r·w2) with the linearized layers moved, all else fixed; r from a ladder (kinks vs rounding).
        let folded = try network.foldingBatchNorm()
        var best = Double.infinity
        for r: Float in [1e-1, 3e-2, 1e-2, 3e-3, 1e-3] {
            func moved(_ sign: Float) throws -> Tensor {
                var top = model.top
                top.parameters = try zip(top.parameters, w2).map { p, w in
                    var q = p
                    try q.add(w, scaledBy: sign * r)
                    return q
                }
                return try folded.head.logits(try top.layers.forward(z0))
            }
            var quotient = try moved(1) - moved(-1)
            quotient.scale(by: 1 / (2 * r))
            best = min(best, relativeError(gradientTerm, quotient))
        }
        #expect(best < 2e-3, "gradient term vs central difference: \(best)")

        // ω̄ᵀ · (explicit Jacobian) · w2.
        var explicit = ExplicitGradientFeatures(top: model.top, omegaBar: network.head)
        explicit.weights = try Tensor(shape: [explicit.featureCount], scalars: w2.flatMap(\.scalars))
        #expect(relativeError(try explicit.logits(z0), gradientTerm) < 1e-4)
    }

    @Test(arguments: Parametrization.allCases)
    func trainingLossGradientsMatchFiniteDifferences(parametrization: Parametrization) throws {
        let network = Self.smallNetwork()
        let x = Self.input(6)
        let z0 = try network.bottom(x, splitAt: "block")
        var model = try GradFeatFeatures(
            network: network, splitAt: "block", linearize: ["block", "conv3"], omegaBar: network.head,
            parametrization: parametrization)
        var rng = SeededRandom(seed: 4)
        model.parameters = model.parameters.map { randomTensor($0.shape, &rng, scale: 0.3) }
        let targets = Targets.classes([0, 1, 2, 1, 0, 2])
        let loss = SoftmaxCrossEntropy()
        let output = try model.forward(z0, mode: .evaluation)
        let gradient = try model.parameterGradients(
            output, logitsGradient: try loss.evaluate(logits: output.logits, targets: targets).gradient)
        #expect(gradient.count == model.parameters.count)
        // The model is linear in its parameters, so the loss is smooth in them: a single step size suffices.
        for (i, direction) in model.parameters.map({ randomTensor($0.shape, &rng) }).enumerated() {
            let epsilon: Float = 1e-2
            func lossAt(_ sign: Float) throws -> Double {
                var moved = model
                var parameters = moved.parameters
                try parameters[i].add(direction, scaledBy: sign * epsilon)
                moved.parameters = parameters
                return try loss.evaluate(logits: moved.logits(z0), targets: targets).loss
            }
            let numeric = (try lossAt(1) - lossAt(-1)) / (2 * Double(epsilon))
            let analytic = try gradient[i].dot(direction)
            #expect(
                relativeError(analytic, numeric, floor: 1e-6) < 2e-3,
                "\(model.parameterNames[i]): \(analytic) vs \(numeric)")
        }
    }

    @Test func objectiveIsConvex() throws {
        // Two very different initialisations reach the same regularised loss (strongly convex with weight decay).
        let network = Self.smallNetwork(seed: 5)
        let x = Self.input(12, seed: 6)
        let z0 = try network.bottom(x, splitAt: "conv3")
        let targets = Targets.classes((0..<12).map { $0 % 3 })
        func train(_ initial: (inout GradFeatFeatures) -> Void) throws -> Double {
            var model = try GradFeatFeatures(
                network: network, splitAt: "conv3", linearize: ["conv3"], omegaBar: network.head,
                parametrization: .standard)
            initial(&model)
            var optimizer = SGD(learningRate: 0.5, momentum: 0.9, weightDecay: 1e-2)
            var objective = 0.0
            for _ in 0..<1500 {
                let output = try model.forward(z0, mode: .evaluation)
                let (value, g) = try SoftmaxCrossEntropy().evaluate(logits: output.logits, targets: targets)
                let grads = try model.parameterGradients(output, logitsGradient: g)
                objective = value + 0.5 * 1e-2 * model.parameters.reduce(0) { $0 + $1.squaredNorm() }
                var parameters = model.parameters
                try optimizer.update(&parameters, gradients: grads)
                model.parameters = parameters
            }
            return objective
        }
        let fromOmegaBar = try train { _ in }
        var rng = SeededRandom(seed: 7)
        let fromRandom = try train { model in model.parameters = model.parameters.map { randomTensor($0.shape, &rng) } }
        #expect(relativeError(fromOmegaBar, fromRandom) < 1e-3, "\(fromOmegaBar) vs \(fromRandom)")
    }

    @Test func fineTuningGradientsMatchFiniteDifferences() throws {
        let network = Self.smallNetwork()
        let x = Self.input(5)
        let z0 = try network.bottom(x, splitAt: "block")
        let model = try FineTuning(
            network: network, splitAt: "block", linearize: ["block", "conv3"], head: network.head)
        #expect(relativeError(try model.logits(z0), try network.logits(x)) < 1e-5)
        let targets = Targets.classes([0, 1, 2, 1, 0])
        let output = try model.forward(z0, mode: .evaluation)
        let g = try SoftmaxCrossEntropy().evaluate(logits: output.logits, targets: targets).gradient
        let gradient = try model.parameterGradients(output, logitsGradient: g)
        var rng = SeededRandom(seed: 8)
        let direction = model.parameters.map { randomTensor($0.shape, &rng) }
        let analytic = try zip(gradient, direction).map { try $0.dot($1) }.reduce(0, +)
        var best = Double.infinity
        for epsilon: Float in [1e-2, 3e-3, 1e-3, 3e-4] {
            func lossAt(_ sign: Float) throws -> Double {
                var moved = model
                moved.parameters = try zip(model.parameters, direction).map { p, d in
                    var q = p
                    try q.add(d, scaledBy: sign * epsilon)
                    return q
                }
                return try SoftmaxCrossEntropy().evaluate(logits: moved.logits(z0), targets: targets).loss
            }
            best = min(best, relativeError(analytic, (try lossAt(1) - lossAt(-1)) / (2 * Double(epsilon))))
        }
        #expect(best < 2e-3, "fine-tuning gradient error \(best)")
    }

    @Test func ablationPathsCanDiffer() throws {
        // Gradient path from random weights, activation path from the pre-trained ones, on images.
        let pretrained = Self.smallNetwork(seed: 1), random = Self.smallNetwork(seed: 99)
        let x = Self.input()
        let activation = ActivationFeatures(
            featureNetwork: try pretrained.backbone.foldingBatchNorm(), head: pretrained.head)
        let gradient = GradientFeatures(
            top: try LinearizedTop(random.backbone, linearize: ["conv3"]), omegaBar: random.head)
        let model = GradFeatFeatures(activation: activation, gradient: gradient)
        #expect(relativeError(try model.logits(x), try pretrained.logits(x)) < 1e-5)
        #expect(!model.sharesPrimal)
    }

    @Test func registryRunsBuiltInsAndRejectsUnknownNames() throws {
        let network = Self.smallNetwork()
        let context = ExtractorContext(
            network: network, split: "block", linearize: ["conv3"], classes: 3, omegaBar: network.head)
        for name in ["activation", "gradient", "gradfeat", "finetune", "explicit-gradient"] {
            let extractor = try ExtractorRegistry.shared.make(name, context: context)
            #expect(try extractor.logits(try network.bottom(Self.input(), splitAt: "block")).shape == [4, 3])
        }
        let error = #expect(throws: GradFeatError.self) { try ExtractorRegistry.shared.make("nope", context: context) }
        #expect(error?.description.contains("gradfeat") == true)
        var noOmega = context
        noOmega.omegaBar = nil
        #expect(throws: GradFeatError.self) { try ExtractorRegistry.shared.make("gradfeat", context: noOmega) }
        #expect(throws: GradFeatError.self) {
            try GradFeatFeatures(network: network, splitAt: "block", linearize: ["pool"], omegaBar: network.head)
        }
    }

    @Test func modelsHaveTorchvisionNames() throws {
        let resnet18 = try ModelZoo.make("resnet18", classes: 20, inputSize: 64, seed: 1)
        let names = resnet18.stateDict.map(\.name)
        #expect(names.contains("layer4.1.conv2.weight"))
        #expect(names.contains("layer2.0.downsample.0.weight"))
        #expect(names.contains("layer2.0.downsample.1.running_var"))
        #expect(names.contains("bn1.running_mean") && names.contains("fc.bias"))
        // 10 classes here; 11,689,512 parameters with ImageNet's 1000
        #expect(resnet18.backbone.parameterCount + resnet18.head.layer.parameterCount == 11_186_772)
        let bigan = BiganCIFAR.make(classes: 10, seed: 1)
        #expect(bigan.layerNames.filter { $0.hasPrefix("conv") } == ["conv1", "conv2", "conv3", "conv4", "conv5"])
        let x = Tensor.zeros([2, 3, 32, 32])
        #expect(try bigan.backbone.forward(x).shape == [2, 512])
        #expect(try resnet18.backbone.forward(Tensor.zeros([1, 3, 64, 64])).shape == [1, 512])
        #expect(throws: GradFeatError.self) { try ModelZoo.make("vgg", classes: 2, seed: 0) }
    }
}
