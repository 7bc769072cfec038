import Foundation
import HDF5
import Layers
import Tensor
import TestSupport
import Testing

/// The transposed convolution against its definition (a scatter loop in Double), against finite differences, and
/// against PyTorch's `nn.ConvTranspose2d` (Tests/Fixtures/conv-transpose-parity.h5, from
/// Tests/Fixtures/make_conv_transpose_fixture.py).
@Suite struct ConvTransposeTests {
    /// `y[n, o, iy·s − p + ky, ix·s − p + kx] += x[n, c, iy, ix] · W[c, o, ky, kx]`, plus the bias.
    func directTransposedConvolution(_ x: Tensor, _ layer: ConvTranspose2D) throws -> [Double] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (layer.outChannels, layer.kernelSize.0, layer.kernelSize.1)
        let (sy, sx, py, px) = (layer.stride.0, layer.stride.1, layer.padding.0, layer.padding.1)
        let outputShape = try layer.outputShape(for: x.shape)
        let (oh, ow) = (outputShape[2], outputShape[3])
        #expect(oh == (h - 1) * sy - 2 * py + kh + layer.outputPadding.0)
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for oc in 0..<o {
                for i in 0..<(oh * ow) { y[(b * o + oc) * oh * ow + i] = Double(layer.bias?.scalars[oc] ?? 0) }
                for ic in 0..<c {
                    for iy in 0..<h {
                        for ix in 0..<w {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let oy = iy * sy - py + ky, ox = ix * sx - px + kx
                                    guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                                    y[((b * o + oc) * oh + oy) * ow + ox] +=
                                        Double(x.scalars[((b * c + ic) * h + iy) * w + ix])
                                        * Double(layer.weight.scalars[((ic * o + oc) * kh + ky) * kw + kx])
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    static let shapes: [((Int, Int), (Int, Int), (Int, Int), (Int, Int), Int, Int)] = [
        // (kernel, stride, padding, output padding, input H, W): a generator's steps, output padding, odd shapes,
        // and channel counts that take the Winograd and im2col paths of the convolution underneath.
        ((4, 4), (1, 1), (0, 0), (0, 0), 1, 1), ((4, 4), (2, 2), (1, 1), (0, 0), 4, 4),
        ((3, 3), (2, 2), (1, 1), (1, 1), 5, 3), ((3, 3), (1, 1), (1, 1), (0, 0), 6, 7),
        ((5, 3), (3, 2), (2, 0), (2, 1), 3, 4), ((1, 1), (1, 1), (0, 0), (0, 0), 3, 5),
    ]

    @Test(arguments: shapes)
    func matchesTheDefinition(
        kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), h: Int, w: Int
    ) throws {
        var rng = SeededRandom(seed: 5)
        for (inputs, outputs) in [(3, 4), (16, 16)] {
            let layer = ConvTranspose2D(
                inChannels: inputs, outChannels: outputs, kernelSize: kernel, stride: stride, padding: padding,
                outputPadding: outputPadding, rng: &rng)
            let x = randomTensor([2, inputs, h, w], &rng)
            let reference = try directTransposedConvolution(x, layer)
            let y = try layer.forward(x)
            let error = relativeError(y, try Tensor(shape: y.shape, scalars: reference.map(Float.init)))
            #expect(error < 1e-5, "\(inputs)→\(outputs) channels: relative error \(error)")
        }
    }

    @Test(arguments: shapes)
    func derivativesMatchFiniteDifferences(
        kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), h: Int, w: Int
    ) throws {
        var rng = SeededRandom(seed: 9)
        for withBias in [true, false] {
            let layer = ConvTranspose2D(
                inChannels: 3, outChannels: 2, kernelSize: kernel, stride: stride, padding: padding,
                outputPadding: outputPadding, bias: withBias, rng: &rng)
            let result = try GradientCheck(layer, input: randomTensor([2, 3, h, w], &rng))
            #expect(result.worst < 2e-3, "bias \(withBias): \(result)")
            #expect(result.adjointError < 1e-4, "bias \(withBias): adjoint error \(result.adjointError)")
        }
    }

    @Test func matchesPyTorch() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/conv-transpose-parity.h5")
        let file = try HDF5File(url: url)
        try file.requireFormat("gradfeat-parity", version: 1)
        func tensor(_ path: String) throws -> Tensor {
            let dataset = try file.dataset(named: path)
            return try Tensor(shape: Shape(dataset.shape), scalars: try dataset.read())
        }
        let cases = try file.children()
        #expect(cases.count == 5)
        for name in cases {
            let group = try file.group(named: name)
            func pair(_ key: String) throws -> (Int, Int) {
                let values = try group.attribute(key, as: [Int].self)
                return (values[0], values[1])
            }
            let layer = try ConvTranspose2D(
                weight: try tensor("\(name)/weight"), bias: try tensor("\(name)/bias"), stride: try pair("stride"),
                padding: try pair("padding"), outputPadding: try pair("output_padding"))
            let input = try tensor("\(name)/input")
            func expectClose(_ actual: Tensor?, _ expected: String) throws {
                let reference = try tensor("\(name)/\(expected)")
                #expect(actual?.shape == reference.shape, "\(name) \(expected): shape")
                let error = actual.map { relativeError($0, reference) } ?? .infinity
                #expect(error < 1e-5, "\(name) \(expected): relative error \(error) against PyTorch")
            }
            try expectClose(try layer.forward(input), "output")
            let (_, tangent) = try layer.jvp(
                input, tangent: try tensor("\(name)/jvp/input"),
                parameterTangent: [try tensor("\(name)/jvp/weight"), try tensor("\(name)/jvp/bias")])
            try expectClose(tangent, "jvp/output")
            let (_, gradients) = try layer.vjp(input, outputGradient: try tensor("\(name)/vjp/cotangent"))
            try expectClose(gradients.input, "vjp/input")
            try expectClose(gradients.parameters[0], "vjp/weight")
            try expectClose(gradients.parameters[1], "vjp/bias")
        }
    }

    @Test func refusesWhatItCannotCompute() throws {
        var rng = SeededRandom(seed: 3)
        let layer = ConvTranspose2D(3, 2, kernel: 3, stride: 2, padding: 1, rng: &rng)
        #expect(throws: TensorError.self) { try layer.forward(Tensor.zeros([1, 4, 5, 5])) } // channels
        #expect(throws: TensorError.self) { try layer.forward(Tensor.zeros([3, 5, 5])) } // rank
        let tooMuchPadding = ConvTranspose2D(3, 2, kernel: 3, stride: 2, padding: 1, outputPadding: 2, rng: &rng)
        #expect(throws: TensorError.self) { try tooMuchPadding.forward(Tensor.zeros([1, 3, 5, 5])) }
        let collapsing = ConvTranspose2D(3, 2, kernel: 1, stride: 1, padding: 1, rng: &rng)
        #expect(throws: TensorError.self) { try collapsing.forward(Tensor.zeros([1, 3, 2, 2])) }
        #expect(throws: TensorError.self) {
            try ConvTranspose2D(weight: Tensor.zeros([3, 2, 3, 3]), bias: Tensor.zeros([3]))
        }
    }
}
