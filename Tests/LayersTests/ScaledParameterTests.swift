import Layers
import Tensor
import TestSupport
import Testing

/// Parameter factors applied inside the layers (`ScaledParameterLayer`: the NTK parametrization without scaled copies)
/// against the definition: the same layer given scaled copies of the tangent, and its gradients scaled afterwards.
@Suite struct ScaledParameterTests {
    @Test(arguments: ["conv", "dense", "sequential", "residual"])
    func factorsInsideEqualScaledCopies(_ kind: String) throws {
        var rng = SeededRandom(seed: 61)
        let (layer, inputShape): (any ScaledParameterLayer, Shape)
        switch kind {
        case "conv": (layer, inputShape) = (Conv2D(3, 4, kernel: 3, stride: 2, padding: 1, rng: &rng), [2, 3, 7, 7])
        case "dense": (layer, inputShape) = (Dense(inputs: 5, outputs: 3, rng: &rng), [4, 5])
        case "sequential":
            // Batch norm has parameters but applies no factors itself: the copies' path inside the sequence.
            (layer, inputShape) = (
                Sequential(numbered: [
                    Conv2D(3, 4, kernel: 3, padding: 1, rng: &rng), BatchNorm2D(channels: 4), ReLU(),
                    Conv2D(4, 2, kernel: 1, rng: &rng),
                ]), [2, 3, 5, 5]
            )
        default:
            (layer, inputShape) = (
                Residual.basicBlock(inChannels: 3, outChannels: 4, stride: 2, rng: &rng), [2, 3, 6, 6]
            )
        }
        let x = randomTensor(inputShape, &rng)
        let tangent = randomTensor(inputShape, &rng)
        let parameterTangent = layer.parameters.map { randomTensor($0.shape, &rng) }
        let scales = layer.parameters.indices.map { Float($0 % 3) * 0.75 + 0.3 }

        let inside = try layer.apply(
            x, tangent: tangent, parameterTangent: parameterTangent, tangentScales: scales, mode: .evaluation)
        let copies = try layer.apply(
            x, tangent: tangent, parameterTangent: parameterTangent.scaled(by: scales), mode: .evaluation)
        #expect(relativeError(inside.value, copies.value) < 1e-6)
        #expect(relativeError(inside.tangent!, copies.tangent!) < 1e-5, "\(kind): tangent")

        let g = randomTensor(inside.value.shape, &rng)
        let scaled = try layer.vjp(
            inside.record, outputGradient: g, needInputGradient: true, gradientScales: scales, mode: .evaluation)
        let plain = try layer.vjp(inside.record, outputGradient: g, needInputGradient: true, mode: .evaluation)
        #expect(relativeError(scaled.input!, plain.input!) < 1e-6)
        for (i, (a, b)) in zip(scaled.parameters, plain.parameters.scaled(by: scales)).enumerated() {
            #expect(relativeError(a, b) < 1e-5, "\(kind): gradient of parameter \(i)")
        }
        #expect(throws: TensorError.self) {
            try layer.apply(x, tangent: nil, parameterTangent: nil, tangentScales: [1], mode: .evaluation)
        }
    }

    /// A layer that applies no factors itself gets scaled copies, and a wrong number of factors is an error.
    @Test func layersWithoutFactorsGetScaledCopies() throws {
        var rng = SeededRandom(seed: 62)
        let norm = BatchNorm2D(channels: 3)
        let x = randomTensor([2, 3, 4, 4], &rng)
        let tangent = norm.parameters.map { randomTensor($0.shape, &rng) }
        let scaled = try norm.apply(
            x, tangent: nil, parameterTangent: tangent, scalingTangentBy: [2, 0.5], mode: .evaluation)
        let copies = try norm.apply(
            x, tangent: nil, parameterTangent: [2 * tangent[0], 0.5 * tangent[1]], mode: .evaluation)
        #expect(relativeError(scaled.tangent!, copies.tangent!) < 1e-6)
        #expect(throws: TensorError.self) {
            try norm.apply(x, tangent: nil, parameterTangent: tangent, scalingTangentBy: [2], mode: .evaluation)
        }
    }
}
