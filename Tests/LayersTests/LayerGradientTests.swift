import Foundation
import Layers
import Tensor
import TestSupport
import Testing

/// Every layer's JVP and VJP against central finite differences (see `GradientCheck`).
@Suite struct LayerGradientTests {
    static let tolerance = 2e-3
    /// Composites hold many ReLU kinks; one pre-activation within the smallest ε of zero costs about 1% (the exact
    /// chain rule is checked to 1e-4 by the adjoint identity).
    static let compositeTolerance = 2e-2

    func check<L: Layer>(
        _ layer: L, _ shape: Shape, mode: Mode = .evaluation, awayFromZero: Bool = false,
        tolerance: Double = tolerance, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        var rng = SeededRandom(seed: 11)
        var input = randomTensor(shape, &rng)
        if awayFromZero {
            // Piecewise-linear layers: keep inputs off the kinks so ±ε never crosses one.
            input = Tensor(shape: shape) { out in
                for i in 0..<out.count { let x = input.scalars[i]; out[i] = x + (x >= 0 ? 0.2 : -0.2) }
            }
        }
        let result = try GradientCheck(layer, input: input, mode: mode)
        #expect(result.jvpError < tolerance, "JVP error \(result.jvpError)", sourceLocation: sourceLocation)
        #expect(
            result.inputGradientError < tolerance, "input gradient error \(result.inputGradientError)",
            sourceLocation: sourceLocation)
        for (i, error) in result.parameterGradientErrors.enumerated() {
            #expect(error < tolerance, "parameter \(i) gradient error \(error)", sourceLocation: sourceLocation)
        }
        #expect(
            result.totalGradientError < tolerance, "total gradient error \(result.totalGradientError)",
            sourceLocation: sourceLocation)
        #expect(result.adjointError < 1e-4, "adjoint error \(result.adjointError)", sourceLocation: sourceLocation)
    }

    @Test func conv2DGeneral() throws {
        var rng = SeededRandom(seed: 1)
        // Odd shapes: 7x5 input, 3x2 kernel, stride 2, padding.
        let conv = Conv2D(
            inChannels: 3, outChannels: 4, kernelSize: (3, 2), stride: (2, 2), padding: (1, 1), rng: &rng)
        let other = Conv2D(
            inChannels: 3, outChannels: 2, kernelSize: (2, 3), stride: (1, 2), padding: (0, 2), rng: &rng)
        // Strided output rows 10 wide: im2col copies them line by line (narrower ones are gathered).
        let wide = Conv2D(3, 2, kernel: 3, stride: 2, padding: 1, rng: &rng)
        try forEachKernelBuild { _ in
            try check(conv, [2, 3, 7, 5])
            try check(other, [2, 3, 5, 7])
            try check(wide, [2, 3, 5, 19])
        }
    }

    @Test func conv2DWholeInputAndPointwise() throws {
        var rng = SeededRandom(seed: 2)
        try check(Conv2D(4, 6, kernel: 4, rng: &rng), [3, 4, 4, 4]) // 1x1 output: the dense path
        try check(Conv2D(4, 6, kernel: 1, rng: &rng), [3, 4, 5, 3]) // 1x1 kernel: per-sample GEMM
        try check(Conv2D(4, 6, kernel: 1, stride: 2, bias: false, rng: &rng), [2, 4, 5, 5])
    }

    @Test func dense() throws {
        var rng = SeededRandom(seed: 3)
        try check(Dense(inputs: 7, outputs: 5, rng: &rng), [4, 7])
        try check(Dense(inputs: 7, outputs: 5, bias: false, rng: &rng), [4, 7])
    }

    @Test func batchNormTrainingAndEvaluation() throws {
        var rng = SeededRandom(seed: 4)
        var bn = BatchNorm2D(channels: 3)
        bn.weight = randomTensor([3], &rng)
        bn.bias = randomTensor([3], &rng)
        bn.runningMean = randomTensor([3], &rng, scale: 0.3)
        bn.runningVariance = Tensor.uniform([3], low: 0.5, high: 2, using: &rng)
        try check(bn, [4, 3, 3, 2], mode: .training())
        try check(bn, [4, 3, 3, 2], mode: .evaluation)
    }

    @Test func activations() throws {
        try check(ReLU(), [2, 3, 4, 4], awayFromZero: true)
        try check(LeakyReLU(slope: 0.01), [2, 3, 4, 4], awayFromZero: true)
        try check(LeakyReLU(slope: 0.2), [5, 6], awayFromZero: true)
    }

    @Test func pooling() throws {
        try check(MaxPool2D(kernel: 3, stride: 2, padding: 1), [2, 3, 7, 6], awayFromZero: true)
        try check(AvgPool2D(kernel: 3, stride: 2, padding: 1), [2, 3, 7, 6])
        try check(AvgPool2D(kernel: 2), [2, 3, 4, 4])
        try check(GlobalAvgPool(), [2, 3, 5, 4])
        try check(Flatten(), [2, 3, 5, 4])
    }

    @Test func standardize() throws {
        var rng = SeededRandom(seed: 8)
        let layer = try Standardize(measuring: randomTensor([20, 5], &rng, scale: 3))
        try check(layer, [4, 5])
        let standardized = try layer.forward(try layer.forward(randomTensor([3, 5], &rng)))
        #expect(standardized.shape == [3, 5])
    }

    @Test func dropoutRepeatsItsMaskUnderASeed() throws {
        let dropout = Dropout(probability: 0.3, salt: 5)
        try check(dropout, [4, 10], mode: .training(seed: 42))
        var rng = SeededRandom(seed: 9)
        let x = randomTensor([4, 10], &rng)
        let a = try dropout.forward(x, mode: .training(seed: 42))
        let b = try dropout.forward(x, mode: .training(seed: 42))
        let c = try dropout.forward(x, mode: .training(seed: 43))
        #expect(a == b)
        #expect(a != c)
        #expect(try dropout.forward(x, mode: .evaluation) == x)
    }

    @Test func randomCropFlipIsTorchvisionsCropThenFlip() throws {
        let layer = RandomCropFlip(padding: 2, mirror: true, salt: 3)
        try check(layer, [3, 2, 5, 6], mode: .training(seed: 7))
        var rng = SeededRandom(seed: 4)
        let x = randomTensor([6, 2, 5, 6], &rng)
        let y = try layer.forward(x, mode: .training(seed: 8))
        #expect(try layer.forward(x, mode: .training(seed: 8)) == y)
        #expect(try layer.forward(x, mode: .evaluation) == x)
        var mirrored = 0
        for n in 0..<6 {
            let place = layer.placement(sample: n, seed: 8)
            #expect((0...4).contains(place.top) && (0...4).contains(place.left))
            if place.mirrored { mirrored += 1 }
            // Pad by 2, crop 5×6 at (top, left), then mirror: written out pixel by pixel.
            for c in 0..<2 {
                for i in 0..<5 {
                    for j in 0..<6 {
                        let column = place.mirrored ? 5 - j : j
                        let (py, px) = (i + place.top - 2, column + place.left - 2)
                        let expected =
                            (0..<5).contains(py) && (0..<6).contains(px)
                            ? x.scalars[((n * 2 + c) * 5 + py) * 6 + px] : 0
                        #expect(y.scalars[((n * 2 + c) * 5 + i) * 6 + j] == expected)
                    }
                }
            }
        }
        let flips = (0..<64).filter { layer.placement(sample: $0, seed: 8).mirrored }.count
        #expect(mirrored + flips > 0 && (16...48).contains(flips), "mirrored \(flips) of 64")
    }

    @Test func residualBlocks() throws {
        var rng = SeededRandom(seed: 5)
        let basic = Residual.basicBlock(inChannels: 3, outChannels: 4, stride: 2, rng: &rng)
        try check(basic, [2, 3, 6, 6], mode: .training(), tolerance: Self.compositeTolerance)
        try check(basic, [2, 3, 6, 6], mode: .evaluation, tolerance: Self.compositeTolerance)
        let identity = Residual.basicBlock(inChannels: 4, outChannels: 4, rng: &rng)
        try check(identity, [2, 4, 5, 5], tolerance: Self.compositeTolerance)
        let bottleneck = Residual.bottleneck(inChannels: 4, planes: 2, stride: 2, rng: &rng)
        try check(bottleneck, [2, 4, 6, 6], tolerance: Self.compositeTolerance)
    }

    @Test func sequential() throws {
        var rng = SeededRandom(seed: 6)
        let net = Sequential([
            NamedLayer("conv", Conv2D(3, 4, kernel: 3, padding: 1, rng: &rng)),
            NamedLayer("act", LeakyReLU(slope: 0.1)),
            NamedLayer("pool", GlobalAvgPool()),
            NamedLayer("fc", Dense(inputs: 4, outputs: 3, rng: &rng)),
        ])
        #expect(net.parameterNames == ["conv.weight", "conv.bias", "fc.weight", "fc.bias"])
        try check(net, [2, 3, 5, 5], tolerance: Self.compositeTolerance)
    }

    @Test func smoothActivations() throws {
        try check(Tanh(), [2, 3, 4, 5])
        try check(Sigmoid(), [2, 3, 4, 5])
        // Far into the tails: no overflow, no NaN, the limits reached.
        let tails = try Tensor(shape: [4], scalars: [-200, -30, 30, 200])
        let sigmoid = try Sigmoid().forward(tails).scalars
        let expected = [0, 1 / (1 + exp(30.0)), 1 / (1 + exp(-30.0)), 1]
        #expect(zip(sigmoid, expected).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max($1, 1e-12) || $0 == Float($1) })
        #expect(try Tanh().forward(tails).scalars == [-1, -1, 1, 1])
    }
}
