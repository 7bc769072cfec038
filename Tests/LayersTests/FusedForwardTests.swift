import Layers
import Tensor
import TestSupport
import Testing

/// `forward` fuses each convolution with the activation after it (bias and activation in one pass): on every
/// convolution path (im2col, Winograd F(2,3), Cook–Toom, pointwise, whole input) and inside a residual block, it
/// must equal `apply`'s value.
@Suite struct FusedForwardTests {
    @Test func forwardEqualsApply() throws {
        var rng = SeededRandom(seed: 67)
        let network = Sequential(numbered: [
            Conv2D(3, 16, kernel: 3, stride: 2, padding: 1, rng: &rng), LeakyReLU(slope: 0.1), // im2col
            Conv2D(16, 16, kernel: 3, padding: 1, bias: false, rng: &rng), ReLU(), // Winograd F(2×2, 3×3)
            Conv2D(16, 16, kernel: 4, rng: &rng), LeakyReLU(slope: 0.2), // Cook–Toom
            Conv2D(16, 8, kernel: 1, rng: &rng), ReLU(), // pointwise
            try Residual.basicBlock(inChannels: 8, outChannels: 8, rng: &rng).foldingBatchNorm(),
            Conv2D(8, 4, kernel: 6, rng: &rng), LeakyReLU(slope: 0.3), // the whole input
        ])
        let x = randomTensor([3, 3, 17, 17], &rng)
        let fused = try network.forward(x)
        let reference = try network.apply(x, tangent: nil, parameterTangent: nil, mode: .evaluation).value
        #expect(fused.shape == [3, 4, 1, 1])
        #expect(relativeError(fused, reference) < 1e-6)
    }
}
