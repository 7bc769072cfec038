import Layers
import TestSupport
import Testing

@testable import Tensor

/// Convolution against a direct loop, batch-norm folding, and shape errors.
@Suite struct ConvolutionTests {
    /// The textbook definition, in Double.
    func directConvolution(_ x: Tensor, _ conv: Conv2D) -> [Double] {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (conv.outChannels, conv.kernelSize.0, conv.kernelSize.1)
        let (sy, sx, py, px) = (conv.stride.0, conv.stride.1, conv.padding.0, conv.padding.1)
        let oh = (h + 2 * py - kh) / sy + 1, ow = (w + 2 * px - kw) / sx + 1
        var y = [Double](repeating: 0, count: n * o * oh * ow)
        for b in 0..<n {
            for oc in 0..<o {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = Double(conv.bias?.scalars[oc] ?? 0)
                        for ic in 0..<c {
                            for ky in 0..<kh {
                                for kx in 0..<kw {
                                    let iy = oy * sy - py + ky, ix = ox * sx - px + kx
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    s +=
                                        Double(x.scalars[((b * c + ic) * h + iy) * w + ix])
                                        * Double(conv.weight.scalars[((oc * c + ic) * kh + ky) * kw + kx])
                                }
                            }
                        }
                        y[((b * o + oc) * oh + oy) * ow + ox] = s
                    }
                }
            }
        }
        return y
    }

    @Test(arguments: [
        // (kernel, stride, padding, input H, W): odd shapes, the three code paths, non-square everything.
        ((3, 2), (2, 2), (1, 1), 7, 5), ((3, 2), (1, 2), (2, 0), 7, 5), ((5, 5), (1, 1), (0, 0), 9, 9),
        ((4, 4), (2, 2), (0, 0), 13, 13), ((7, 5), (1, 1), (0, 0), 7, 5), ((1, 1), (1, 1), (0, 0), 7, 5),
        ((1, 1), (2, 2), (0, 0), 7, 5),
        // Strided rows 8 or more wide (copied line by line) and narrower ones (gathered), padded or not.
        ((3, 3), (2, 2), (1, 1), 9, 20), ((3, 3), (3, 3), (0, 1), 8, 30), ((3, 3), (2, 2), (1, 1), 9, 9),
        // Stride-1 rows 8 or more wide (vectors, the last overlapping), padded at both ends.
        ((3, 3), (1, 1), (1, 1), 6, 19), ((5, 5), (1, 1), (0, 0), 7, 20),
        // Kernel rows that see only padding: a 1- and a 2-row image under kernels taller than them.
        ((5, 5), (1, 1), (2, 2), 1, 9), ((7, 7), (1, 1), (3, 3), 2, 12),
    ])
    func matchesDirectLoop(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), h: Int, w: Int) throws {
        var rng = SeededRandom(seed: 21)
        let conv = Conv2D(
            inChannels: 3, outChannels: 4, kernelSize: kernel, stride: stride, padding: padding, rng: &rng)
        let x = randomTensor([2, 3, h, w], &rng)
        let reference = directConvolution(x, conv)
        try forEachKernelBuild { isa in
            let y = try conv.forward(x)
            #expect(y.count == reference.count)
            let worst = zip(y.scalars, reference).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-5, "[\(isa)] largest difference \(worst)")
        }
    }

    /// 3×3 stride-1 convolutions with ≥ 16 channels run Winograd F(2×2, 3×3): odd and even output sizes (partial
    /// edge tiles), every padding it takes, tile counts that end in every vector width of the C transforms (with
    /// each of their builds), an odd batch (uneven worker slices), `alpha` and accumulation.
    @Test(arguments: [
        ((1, 1), 7, 5), ((0, 0), 6, 6), ((2, 2), 5, 4), ((1, 0), 4, 4), ((0, 1), 3, 9),
        // rows of 10–14 tiles: cut row by row; the backward pass's SIMD lanes beside edge tiles
        ((1, 1), 5, 20), ((0, 0), 6, 22), ((1, 1), 4, 28),
    ])
    func winogradMatchesDirectLoop(padding: (Int, Int), h: Int, w: Int) throws {
        var rng = SeededRandom(seed: 23)
        let C = 18 // not a multiple of the four channels the weight transforms take at a time
        let conv = Conv2D(
            inChannels: C, outChannels: 24, kernelSize: (3, 3), stride: (1, 1), padding: padding, rng: &rng)
        let x = randomTensor([3, C, h, w], &rng)
        let geometry = try ConvolutionGeometry(
            batch: 3, inChannels: C, height: h, width: w, outChannels: 24, kernel: (3, 3), stride: (1, 1),
            padding: padding)
        #expect(geometry.usesWinograd)
        let reference = directConvolution(x, conv)
        let scale = reference.map(abs).max() ?? 1
        let start = randomTensor(geometry.outputShape, &rng)
        try forEachKernelBuild { isa in
            let y = try conv.forward(x)
            let worst = zip(y.scalars, reference).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-5 * scale, "[\(isa)] largest difference \(worst)")

            // y₀ + ½ · conv(x, W) through `accumulate` and `alpha`, as the tangent pass uses it.
            var accumulated = start
            x.withUnsafeBufferPointer { xp in
                conv.weight.withUnsafeBufferPointer { wp in
                    accumulated.withUnsafeMutableBufferPointer { yp in
                        geometry.forward(
                            x: xp.baseAddress!, weight: wp.baseAddress!, bias: nil, y: yp.baseAddress!,
                            accumulate: true, alpha: 0.5)
                    }
                }
            }
            let bias = conv.bias?.scalars ?? [Float](repeating: 0, count: 24)
            let positions = geometry.outHeight * geometry.outWidth
            let worstAccumulated =
                (0..<start.count).map { i in
                    let expected = Double(start.scalars[i]) + 0.5 * (reference[i] - Double(bias[(i / positions) % 24]))
                    return abs(Double(accumulated.scalars[i]) - expected)
                }.max() ?? 0
            #expect(worstAccumulated < 1e-5 * scale, "[\(isa)] largest difference \(worstAccumulated)")
        }

        // The input gradient (im2col) on the same shapes, against its definition, dx = Σ_o Σ_(a,b) g[o, y + p − a, x + p − b] W[o, c, a, b].
        let g = randomTensor(geometry.outputShape, &rng)
        var dx = Tensor.zeros(geometry.inputShape)
        g.withUnsafeBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in
                conv.weight.withUnsafeBufferPointer { wp in
                    dx.withUnsafeMutableBufferPointer { dp in
                        geometry.backward(
                            g: gp.baseAddress!, x: xp.baseAddress!, weight: wp.baseAddress!, dx: dp.baseAddress!,
                            dWeight: nil, dBias: nil)
                    }
                }
            }
        }
        let (oh, ow) = (geometry.outHeight, geometry.outWidth)
        var worstGradient = 0.0, gradientScale = 0.0
        for n in 0..<3 {
            for c in 0..<C {
                for y in 0..<h {
                    for x0 in 0..<w {
                        var s = 0.0
                        for o in 0..<24 {
                            for a in 0..<3 {
                                for b in 0..<3 {
                                    let oy = y + padding.0 - a, ox = x0 + padding.1 - b
                                    guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                                    s +=
                                        Double(g.scalars[((n * 24 + o) * oh + oy) * ow + ox])
                                        * Double(conv.weight.scalars[((o * C + c) * 3 + a) * 3 + b])
                                }
                            }
                        }
                        gradientScale = max(gradientScale, abs(s))
                        worstGradient = max(worstGradient, abs(s - Double(dx.scalars[((n * C + c) * h + y) * w + x0])))
                    }
                }
            }
        }
        #expect(worstGradient < 1e-5 * max(1, gradientScale), "largest input-gradient difference \(worstGradient)")

        // The weight gradient, scaled and accumulated onto a start value, against its definition,
        // dW[o, c, a, b] = Σ_n Σ_(y,x) g[n, o, y, x] x[n, c, y − p + a, x − p + b]; and the input gradient again,
        // now through the layer's cached transform.
        let dWeightStart = randomTensor(conv.weight.shape, &rng)
        var dWeight = dWeightStart
        var dxCached = Tensor.zeros(geometry.inputShape)
        g.withUnsafeBufferPointer { gp in
            x.withUnsafeBufferPointer { xp in
                conv.weight.withUnsafeBufferPointer { wp in
                    dxCached.withUnsafeMutableBufferPointer { dp in
                        dWeight.withUnsafeMutableBufferPointer { dwp in
                            geometry.backward(
                                g: gp.baseAddress!, x: xp.baseAddress!, weight: wp.baseAddress!, dx: dp.baseAddress!,
                                dWeight: dwp.baseAddress!, dBias: nil, accumulate: true, weightScale: 0.25,
                                weightCache: conv.weightCache)
                        }
                    }
                }
            }
        }
        #expect(conv.weightCache.isFilled)
        #expect(zip(dxCached.scalars, dx.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        var worstWeight = 0.0, weightScale = 0.0
        for o in 0..<24 {
            for c in 0..<C {
                for a in 0..<3 {
                    for b in 0..<3 {
                        var s = 0.0
                        for n in 0..<3 {
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    let iy = oy - padding.0 + a, ix = ox - padding.1 + b
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    s +=
                                        Double(g.scalars[((n * 24 + o) * oh + oy) * ow + ox])
                                        * Double(x.scalars[((n * C + c) * h + iy) * w + ix])
                                }
                            }
                        }
                        let index = ((o * C + c) * 3 + a) * 3 + b
                        let expected = Double(dWeightStart.scalars[index]) + 0.25 * s
                        weightScale = max(weightScale, abs(expected))
                        worstWeight = max(worstWeight, abs(expected - Double(dWeight.scalars[index])))
                    }
                }
            }
        }
        #expect(worstWeight < 1e-5 * max(1, weightScale), "largest weight-gradient difference \(worstWeight)")
    }

    /// With two chunks per worker or more, each worker runs whole chunks of its own samples (the other forward
    /// path of `WinogradAlgorithm`): uneven worker slices and a partial last chunk, against the direct loop.
    @Test func winogradForwardSplitBySamples() throws {
        var rng = SeededRandom(seed: 29)
        let conv = Conv2D(16, 20, kernel: 3, padding: 1, rng: &rng)
        // 16×16 outputs: 64 tiles per sample, chunks of 2 samples; an odd batch with at least two chunks per worker.
        let batch = 4 * Parallel.workerCount + 1
        let x = randomTensor([batch, 16, 16, 16], &rng)
        let geometry = try conv.geometry(for: x.shape)
        #expect(geometry.usesWinograd)
        #expect(batch >= 2 * Parallel.workerCount * WinogradF2x3(geometry).chunk)
        let reference = directConvolution(x, conv)
        let scale = reference.map(abs).max() ?? 1
        let y = try conv.forward(x)
        let worst = zip(y.scalars, reference).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst < 1e-5 * scale, "largest difference \(worst)")
    }

    /// Winograd F(m×m, r×r) from the Cook–Toom construction, for every (m, r) pair it may be given, against the
    /// direct loop: partial edge tiles, paddings, tile counts that end in every vector width, `alpha` and
    /// accumulation, with every build of the C kernels this CPU runs.
    @Test(arguments: [
        (2, 4, 0, 13, 13), (2, 4, 1, 7, 9), (3, 4, 0, 13, 12), (4, 3, 1, 7, 7), (4, 3, 1, 4, 4),
        (2, 3, 1, 6, 5), (3, 2, 0, 9, 10), (2, 5, 2, 8, 8), (6, 3, 1, 14, 14), (5, 4, 0, 13, 13),
        (3, 2, 0, 7, 30),
    ]) // rows of 10 tiles: cut row by row
    func cookToomWinogradMatchesDirectLoop(m: Int, r: Int, padding: Int, h: Int, w: Int) throws {
        var rng = SeededRandom(seed: 41)
        let conv = Conv2D(16, 20, kernel: r, padding: padding, bias: false, rng: &rng)
        let x = randomTensor([5, 16, h, w], &rng)
        let geometry = try conv.geometry(for: x.shape)
        let reference = directConvolution(x, conv)
        let scale = max(1, reference.map(abs).max() ?? 1)
        let start = randomTensor(geometry.outputShape, &rng)
        forEachKernelBuild { isa in
            for accumulate in [false, true] {
                var y = start
                x.withUnsafeBufferPointer { xp in
                    conv.weight.withUnsafeBufferPointer { wp in
                        y.withUnsafeMutableBufferPointer { yp in
                            CookToomWinograd(geometry, outputTile: m).forward(
                                x: xp.baseAddress!, weight: wp.baseAddress!, transformed: nil, y: yp.baseAddress!,
                                accumulate: accumulate, alpha: 0.5, workspace: .shared)
                        }
                    }
                }
                let worst =
                    (0..<y.count).map { i in
                        abs(Double(y.scalars[i]) - ((accumulate ? Double(start.scalars[i]) : 0) + 0.5 * reference[i]))
                    }.max() ?? 0
                // F(6, 3) interpolates at ±½ too: its rounding error is the largest of these.
                #expect(
                    worst < (m * r > 12 ? 1e-4 : 2e-5) * scale, "F(\(m), \(r)) [\(isa)]: largest difference \(worst)")
            }
        }
    }

    /// 4×4 stride-1 convolutions with ≥ 16 channels run Cook–Toom Winograd forward with the tile the cost rule
    /// picks (bigan-cifar's conv3: F(5×5, 4×4) on 2×2 tiles), through the layer and its cached weight transform.
    @Test func fourByFourConvolutionsRunCookToomWinograd() throws {
        var rng = SeededRandom(seed: 43)
        let conv = Conv2D(16, 24, kernel: 4, rng: &rng)
        let x = randomTensor([3, 16, 13, 13], &rng)
        #expect(try conv.geometry(for: x.shape).cookToomTile == 5)
        #expect(try conv.geometry(for: [3, 16, 8, 9]).cookToomTile != nil)
        #expect(try Conv2D(3, 24, kernel: 4, rng: &rng).geometry(for: [1, 3, 13, 13]).cookToomTile == nil)
        #expect(try Conv2D(16, 24, kernel: 4, stride: 2, rng: &rng).geometry(for: x.shape).cookToomTile == nil)
        for _ in 0..<2 { // the second pass reads the cached transform
            let y = try conv.forward(x)
            let reference = directConvolution(x, conv)
            let scale = max(1, reference.map(abs).max() ?? 1)
            let worst = zip(y.scalars, reference).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-4 * scale, "largest difference \(worst)")
            #expect(conv.weightCache.isFilled)
        }
    }

    /// A convolution keeps its Winograd weight transform across passes, and drops it when its weights change (in
    /// place or by assignment), so the next pass uses the new weights.
    @Test func weightTransformFollowsTheWeights() throws {
        var rng = SeededRandom(seed: 29)
        var conv = Conv2D(16, 16, kernel: 3, padding: 1, rng: &rng)
        let x = randomTensor([2, 16, 6, 6], &rng)
        _ = try conv.forward(x)
        #expect(conv.weightCache.isFilled)
        let copy = conv
        conv.weight.withUnsafeMutableBufferPointer { w in
            w[0] += 1; w[100] -= 2
        }
        #expect(!conv.weightCache.isFilled)
        #expect(copy.weightCache.isFilled) // the copy keeps its own weights and their transform
        for layer in [conv, copy] {
            let y = try layer.forward(x)
            let worst = zip(y.scalars, directConvolution(x, layer)).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-5, "largest difference \(worst)")
        }
        conv.parameters = copy.parameters
        #expect(!conv.weightCache.isFilled)
        #expect(try conv.forward(x) == copy.forward(x))
    }

    @Test func foldedBatchNormEqualsEvaluationMode() throws {
        var rng = SeededRandom(seed: 22)
        let conv = Conv2D(3, 5, kernel: 3, stride: 2, padding: 1, rng: &rng)
        var bn = BatchNorm2D(channels: 5)
        bn.weight = randomTensor([5], &rng)
        bn.bias = randomTensor([5], &rng)
        bn.runningMean = randomTensor([5], &rng)
        bn.runningVariance = Tensor.uniform([5], low: 0.2, high: 3, using: &rng)
        let x = randomTensor([3, 3, 9, 8], &rng)
        let separate = try bn.forward(try conv.forward(x), mode: .evaluation)
        let folded = try bn.folded(into: conv).forward(x)
        #expect(relativeError(folded, separate) < 1e-5)

        // And through a network: foldingBatchNorm removes every BN that follows a conv.
        let block = Residual.basicBlock(inChannels: 3, outChannels: 4, stride: 2, rng: &rng)
        var net = Sequential([NamedLayer("block", block)])
        // Give the BNs non-trivial statistics by a few training-mode passes.
        for step in 0..<3 {
            let out = try net.apply(
                randomTensor([4, 3, 8, 8], &rng), tangent: nil, parameterTangent: nil,
                mode: .training(seed: UInt64(step)))
            net.updateStatistics(from: out.record)
        }
        let foldedNet = try net.foldingBatchNorm()
        #expect(foldedNet.parameterNames.allSatisfy { !$0.contains("bn") })
        #expect(relativeError(try foldedNet.forward(x), try net.forward(x)) < 1e-5)
    }

    @Test func badShapesNameBothShapes() throws {
        var rng = SeededRandom(seed: 23)
        let conv = Conv2D(3, 4, kernel: 3, rng: &rng)
        let error = #expect(throws: TensorError.self) { try conv.forward(Tensor.zeros([2, 5, 8, 8])) }
        #expect(error?.description.contains("[2, 3, 8, 8]") == true)
        #expect(error?.description.contains("[2, 5, 8, 8]") == true)
        let dense = Dense(inputs: 6, outputs: 2, rng: &rng)
        let denseError = #expect(throws: TensorError.self) { try dense.forward(Tensor.zeros([2, 7])) }
        #expect(denseError?.description.contains("[2, 6]") == true)
        #expect(denseError?.description.contains("[2, 7]") == true)
        #expect(throws: TensorError.self) { try conv.forward(Tensor.zeros([2, 3, 2, 2])) } // kernel too large
        #expect(throws: TensorError.self) { try Tensor(shape: [2, 3], scalars: [1, 2]) }
    }
}
