import Layers
import Tensor
import TestSupport
import Testing

/// Whole networks: the adjoint identity through a small ResNet, and training that works.
@Suite struct NetworkTests {
    /// A small CIFAR-style ResNet: stem, two stages of basic blocks, global pool, classifier.
    static func smallResNet(_ rng: inout SeededRandom) -> Sequential {
        Sequential([
            NamedLayer("conv1", Conv2D(3, 8, kernel: 3, padding: 1, bias: false, rng: &rng)),
            NamedLayer("bn1", BatchNorm2D(channels: 8)),
            NamedLayer("relu", ReLU()),
            NamedLayer("layer1", Sequential(numbered: [Residual.basicBlock(inChannels: 8, outChannels: 8, rng: &rng)])),
            NamedLayer(
                "layer2",
                Sequential(numbered: [Residual.basicBlock(inChannels: 8, outChannels: 16, stride: 2, rng: &rng)])),
            NamedLayer(
                "layer3", Sequential(numbered: [Residual.bottleneck(inChannels: 16, planes: 4, stride: 2, rng: &rng)])),
            NamedLayer("pool", MaxPool2D(kernel: 2)),
            NamedLayer("avgpool", GlobalAvgPool()),
            NamedLayer("fc", Dense(inputs: 16, outputs: 5, rng: &rng)),
        ])
    }

    @Test(arguments: [Mode.evaluation, Mode.training(seed: 3)])
    func adjointIdentityThroughResNet(mode: Mode) throws {
        var rng = SeededRandom(seed: 31)
        let net = NetworkTests.smallResNet(&rng)
        #expect(net.parameterNames.contains("layer2.0.downsample.0.weight"))
        #expect(net.bufferNames.contains("layer2.0.bn1.running_mean"))
        let x = randomTensor([3, 3, 12, 12], &rng)
        let v = randomTensor(x.shape, &rng)
        let p = net.parameters.map { randomTensor($0.shape, &rng) }
        let (y, jv) = try net.jvp(x, tangent: v, parameterTangent: p, mode: mode)
        let u = randomTensor(y.shape, &rng)
        let output = try net.apply(x, tangent: nil, parameterTangent: nil, mode: mode)
        let g = try net.vjp(output.record, outputGradient: u, needInputGradient: true, mode: mode)
        let lhs = try u.dot(jv)
        let rhs = try g.input!.dot(v) + zip(g.parameters, p).map { try $0.dot($1) }.reduce(0, +)
        #expect(relativeError(lhs, rhs) < 1e-4, "⟨u, Jv⟩ = \(lhs), ⟨Jᵀu, v⟩ = \(rhs)")
        #expect(g.parameters.count == net.parameters.count)
    }

    @Test func smallCNNLearnsASeparableTask() throws {
        // Class 0: bright top half; class 1: bright bottom half; plus noise.
        var rng = SeededRandom(seed: 32)
        let n = 64
        var images = [Float](repeating: 0, count: n * 1 * 8 * 8)
        var labels = [Int]()
        for i in 0..<n {
            let label = i % 2
            labels.append(label)
            for y in 0..<8 {
                for x in 0..<8 {
                    let bright = (y < 4) == (label == 0)
                    images[i * 64 + y * 8 + x] = (bright ? 1 : 0) + 0.3 * rng.nextNormal()
                }
            }
        }
        let x = try Tensor(shape: [n, 1, 8, 8], scalars: images)
        var net = Sequential(numbered: [
            Conv2D(1, 4, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2D(kernel: 2),
            Conv2D(4, 8, kernel: 3, padding: 1, rng: &rng), ReLU(), GlobalAvgPool(),
            Dense(inputs: 8, outputs: 2, rng: &rng),
        ])
        var optimizer = SGD(learningRate: 0.1, momentum: 0.9)
        let loss = SoftmaxCrossEntropy()
        var first = 0.0, last = 0.0
        for step in 0..<60 {
            let out = try net.apply(x, tangent: nil, parameterTangent: nil, mode: .training(seed: UInt64(step)))
            let (value, gradient) = try loss.evaluate(logits: out.value, targets: .classes(labels))
            var grads = try net.vjp(out.record, outputGradient: gradient, needInputGradient: false, mode: .training())
                .parameters
            try clipGradientNorm(&grads, maxNorm: 10)
            var parameters = net.parameters
            try optimizer.update(&parameters, gradients: grads)
            net.parameters = parameters
            if step == 0 { first = value }
            last = value
        }
        #expect(last < first / 2, "loss went from \(first) to \(last)")
    }
}
