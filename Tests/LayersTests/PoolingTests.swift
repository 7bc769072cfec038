import Layers
import Tensor
import TestSupport
import Testing

/// Pooling on tensors large enough to be split across the workers, against the textbook loops.
@Suite struct PoolingTests {
    /// Max and mean over each clipped 3×3, stride-2, padding-1 window of a [4, 8, 33, 31] batch (32 planes, 130K
    /// scalars), and max pooling's gradient routed to each window's first maximum.
    @Test func largePoolingMatchesDirectLoops() throws {
        var rng = SeededRandom(seed: 31)
        let (n, c, h, w) = (4, 8, 33, 31)
        let x = randomTensor([n, c, h, w], &rng)
        let maxPool = MaxPool2D(kernel: 3, stride: 2, padding: 1), avgPool = AvgPool2D(kernel: 3, stride: 2, padding: 1)
        let g = randomTensor(try maxPool.outputShape(for: x.shape), &rng)
        let (maxValue, maxGradients) = try maxPool.vjp(x, outputGradient: g)
        let average = try avgPool.forward(x)
        let (oh, ow) = (maxValue.shape[2], maxValue.shape[3])

        var expectedGradient = [Float](repeating: 0, count: x.count)
        for plane in 0..<(n * c) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var best = -Float.infinity, bestIndex = -1, total: Float = 0
                    for y in max(0, 2 * oy - 1)..<min(h, 2 * oy + 2) {
                        for xx in max(0, 2 * ox - 1)..<min(w, 2 * ox + 2) {
                            let i = (plane * h + y) * w + xx
                            total += x.scalars[i]
                            if x.scalars[i] > best { (best, bestIndex) = (x.scalars[i], i) }
                        }
                    }
                    let o = (plane * oh + oy) * ow + ox
                    #expect(maxValue.scalars[o] == best)
                    #expect(abs(average.scalars[o] - total / 9) < 1e-6)
                    expectedGradient[bestIndex] += g.scalars[o]
                }
            }
        }
        let dx = try #require(maxGradients.input)
        #expect(zip(dx.scalars, expectedGradient).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// Without a tangent, max pooling computes the maxima alone (row by row) and its gradient finds the arg-max
    /// positions again; both must agree with the window-by-window pass that a tangent takes, on ties (a third of
    /// the inputs are 0, as after a ReLU), a NaN, and windows with and without padding and overlap.
    @Test(arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0), (3, 3, 0)])
    func maximaAloneMatchTheTangentPass(kernel: Int, stride: Int, padding: Int) throws {
        var rng = SeededRandom(seed: 37)
        var x = randomTensor([2, 3, 9, 19], &rng) // rows wider than one SIMD block, with a remainder
        x.withUnsafeMutableBufferPointer { v in
            for i in v.indices where i % 3 == 0 { v[i] = 0 }
            v[40] = .nan
        }
        let pool = MaxPool2D(kernel: kernel, stride: stride, padding: padding)
        let plain = try pool.apply(x, tangent: nil, parameterTangent: nil, mode: .evaluation)
        let tangent = randomTensor(x.shape, &rng)
        let routed = try pool.apply(x, tangent: tangent, parameterTangent: nil, mode: .evaluation)
        #expect(plain.record.indices.isEmpty && !routed.record.indices.isEmpty)
        #expect(plain.value == routed.value)
        #expect(!plain.value.scalars.contains { $0.isNaN })
        let g = randomTensor(plain.value.shape, &rng)
        let fromPlain = try pool.vjp(plain.record, outputGradient: g, needInputGradient: true, mode: .evaluation)
        let fromRouted = try pool.vjp(routed.record, outputGradient: g, needInputGradient: true, mode: .evaluation)
        #expect(fromPlain.input == fromRouted.input)
    }
}
