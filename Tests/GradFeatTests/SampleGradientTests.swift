import GradFeat
import Layers
import Tensor
import TestSupport
import Testing

/// Batched per-sample gradients (`GradientRows`) against one backward pass per sample, and the Kronecker projection
/// against its definition and its statistics.
@Suite struct SampleGradientTests {
    /// `G(x)` by one backward pass per sample and class (the batched path's independent reference): [N, c, |θ2|].
    static func onePassPerSampleAndClass(_ top: LinearizedTop, head: LinearHead, _ input: Tensor) throws -> Tensor {
        try ExplicitGradientFeatures(top: top, omegaBar: head).gradientFeaturesOnePassPerSample(input)
    }

    /// A top whose layers take the other two per-sample paths: a convolution whose kernel covers its input (a 1×1
    /// output, P = 1) and a dense layer.
    static func denseTop() throws -> (LinearizedTop, LinearHead, Tensor) {
        var rng = SeededRandom(seed: 7)
        let layers = Sequential([
            NamedLayer("conv", Conv2D(4, 6, kernel: 3, rng: &rng)),
            NamedLayer("lrelu", LeakyReLU(slope: 0.01)),
            NamedLayer("flatten", Flatten()),
            NamedLayer("dense", Dense(inputs: 6, outputs: 5, rng: &rng)),
            NamedLayer("lrelu2", LeakyReLU(slope: 0.01)),
        ])
        let top = try LinearizedTop(layers, linearize: ["conv", "dense"])
        return (top, LinearHead(features: 5, classes: 3, rng: &rng), randomTensor([5, 4, 3, 3], &rng))
    }

    /// The small network's top from `split` with `linearize`, and random activations at the split (its own
    /// activations barely vary between images).
    static func smallTop(split: String, linearize: [String]) throws -> (LinearizedTop, LinearHead, Tensor) {
        let network = GradFeatModelTests.smallNetwork()
        let shape = try network.bottom(GradFeatModelTests.input(1), splitAt: split).shape.dimensions.dropFirst()
        var rng = SeededRandom(seed: 11)
        let top = try LinearizedTop(try network.top(splitAt: split), linearize: linearize)
        return (top, network.head, randomTensor(Shape([5] + shape), &rng))
    }

    @Test(arguments: [["conv3"], ["block", "conv3"], ["conv2", "block", "conv3"]])
    func jacobianRowsEqualOneBackwardPassPerSampleAndClass(linearize: [String]) throws {
        let (top, head, z) = try Self.smallTop(split: linearize[0], linearize: linearize)
        let batched = try GradientRows(top: top, head: head).jacobianRows(z)
        let reference = try Self.onePassPerSampleAndClass(top, head: head, z)
        #expect(relativeError(batched, reference) < 1e-5, "relative error \(relativeError(batched, reference))")
        #expect(reference.maxAbs() > 0)
    }

    @Test func denseAndWholeInputRowsEqualOneBackwardPassPerSampleAndClass() throws {
        let (top, head, x) = try Self.denseTop()
        let batched = try GradientRows(top: top, head: head).jacobianRows(x)
        let reference = try Self.onePassPerSampleAndClass(top, head: head, x)
        #expect(relativeError(batched, reference) < 1e-5, "relative error \(relativeError(batched, reference))")
    }

    /// Each row is the gradient of that sample's own loss, as the model's batched backward pass gives for a batch of
    /// one, with respect to w2 as stored (so the NTK factors are in).
    @Test(arguments: Parametrization.allCases)
    func lossGradientRowsEqualEachSamplesOwnBackwardPass(parametrization: Parametrization) throws {
        let network = GradFeatModelTests.smallNetwork()
        let z = try network.bottom(GradFeatModelTests.input(5), splitAt: "block")
        var model = try GradientFeatures(
            network: network, splitAt: "block", linearize: ["block", "conv3"],
            omegaBar: network.head, parametrization: parametrization)
        var rng = SeededRandom(seed: 3)
        model.parameters = model.parameters.map { randomTensor($0.shape, &rng, scale: 0.3) }
        let targets = Targets.classes([0, 2, 1, 1, 0])
        let loss = SoftmaxCrossEntropy()
        let rows = try GradientRows(
            top: model.top, head: model.omegaBar,
            scales: parametrization.scales(for: model.top.zeroTangent))
        let got = try rows.lossGradients(z, logits: try model.logits(z), targets: targets, loss: loss)
        var expected: [Float] = []
        for sample in 0..<5 {
            let output = try model.forward(z.rows(sample..<(sample + 1)), mode: .evaluation)
            let g = try loss.evaluate(logits: output.logits, targets: targets.gathering([sample])).gradient
            expected += try model.parameterGradients(output, logitsGradient: g).flatMap(\.scalars)
        }
        let reference = try Tensor(shape: got.shape, scalars: expected)
        #expect(relativeError(got, reference) < 1e-5, "relative error \(relativeError(got, reference))")
    }

    /// `A M Bᵀ` for each layer's gradient matrix `M = [∂W | ∂b]`, in Double, from the exact rows; the layers'
    /// shapes from their factors (`factors`, any batch), not from θ2's tensors.
    static func projectByDefinition(
        _ exact: Tensor, factors: [SampleGradientFactors],
        projection: KroneckerProjection
    ) -> [Double] {
        let (n, width) = (exact.shape[0], exact.shape[1])
        var result: [Double] = []
        for sample in 0..<n {
            var offset = sample * width
            for (block, factor) in zip(projection.blocks, factors) {
                let (o, i, hasBias) = (factor.outputs, factor.inputs, factor.hasBias)
                let columns = i + (hasBias ? 1 : 0)
                func m(_ row: Int, _ column: Int) -> Double {
                    Double(column < i ? exact.scalars[offset + row * i + column] : exact.scalars[offset + o * i + row])
                }
                let (a, b) = (block.outputFactor, block.inputFactor)
                for x in 0..<a.shape[0] {
                    for y in 0..<b.shape[0] {
                        var sum = 0.0
                        for row in 0..<o {
                            for column in 0..<columns {
                                sum +=
                                    Double(a.scalars[x * o + row]) * m(row, column)
                                    * Double(b.scalars[y * columns + column])
                            }
                        }
                        result.append(sum)
                    }
                }
                offset += factor.parameterCount
            }
        }
        return result
    }

    /// Projected rows against the definition, for both per-sample paths and with the NTK factors (weight and bias
    /// factors differ there, so exchanging them would show).
    @Test(arguments: [false, true], Parametrization.allCases)
    func projectedRowsAreTheKroneckerProjectionOfTheExactRows(denseTop: Bool, parametrization: Parametrization) throws {
        let (top, head, x) =
            try denseTop ? Self.denseTop() : Self.smallTop(split: "block", linearize: ["block", "conv3"])
        let scales = parametrization.scales(for: top.parameters)
        let pass = try top.apply(x, parameterTangent: nil)
        let factors = try top.perSampleFactors(pass.record, cotangent: .zeros(like: pass.value))
        let projection = try KroneckerProjection(dimension: 4 * factors.count, top: top, seed: 5)
        let exact = try GradientRows(top: top, head: head, scales: scales)
        let projected = try GradientRows(top: top, head: head, scales: scales, map: .projected(projection))
        let targets = Targets.classes((0..<x.shape[0]).map { $0 % 3 })
        for (got, rows) in [
            (
                try projected.lossGradients(x, targets: targets, loss: SoftmaxCrossEntropy()),
                try exact.lossGradients(x, targets: targets, loss: SoftmaxCrossEntropy())
            ),
            (try projected.jacobianRows(x), try exact.jacobianRows(x)),
        ] {
            let flat = try rows.reshaped([rows.count / exact.dimension, exact.dimension])
            let expected = Self.projectByDefinition(flat, factors: factors, projection: projection)
            let error = SolverTests.relative(got.scalars.map(Double.init), expected)
            #expect(got.count == expected.count && error < 1e-5, "relative error \(error)")
        }
    }

    /// A residual block with a projection shortcut (stride 2, 4 → 6 channels) and a pointwise convolution.
    @Test func shortcutAndPointwiseRowsEqualOneBackwardPassPerSampleAndClass() throws {
        var rng = SeededRandom(seed: 8)
        let layers = try Sequential([
            NamedLayer("block", Residual.basicBlock(inChannels: 4, outChannels: 6, stride: 2, rng: &rng)),
            NamedLayer("pointwise", Conv2D(6, 5, kernel: 1, rng: &rng)),
            NamedLayer("lrelu", LeakyReLU(slope: 0.01)),
            NamedLayer("pool", GlobalAvgPool()),
        ]).foldingBatchNorm()
        let top = try LinearizedTop(layers, linearize: ["block", "pointwise"])
        let head = LinearHead(features: 5, classes: 3, rng: &rng)
        let x = randomTensor([4, 4, 6, 6], &rng)
        #expect(top.supportsPerSampleGradients)
        let batched = try GradientRows(top: top, head: head).jacobianRows(x)
        let reference = try Self.onePassPerSampleAndClass(top, head: head, x)
        #expect(relativeError(batched, reference) < 1e-5, "relative error \(relativeError(batched, reference))")
    }

    /// Random factors of one layer's per-sample gradients: δ [N, O, P] and z [N, I, P].
    static func randomFactors(samples: Int, outputs: Int, inputs: Int, positions: Int, seed: UInt64) throws
        -> SampleGradientFactors
    {
        var rng = SeededRandom(seed: seed)
        return try SampleGradientFactors(
            outputGradient: randomTensor([samples, outputs, positions], &rng),
            inputColumns: randomTensor([samples, inputs, positions], &rng), weightShape: [outputs, inputs],
            hasBias: true)
    }

    /// Over projection seeds, a rank-one gradient's squared norm is preserved in expectation with the relative
    /// variance `(1 + 2/a)(1 + 2/b) − 1` (a product of two independent χ²/dof), and an inner product in expectation.
    @Test func rankOneNormsAndInnerProductsHaveTheStatedMeanAndVariance() throws {
        let factors = try Self.randomFactors(samples: 2, outputs: 64, inputs: 127, positions: 1, seed: 1)
        let exact = try GradientRowMap.exact.rows([factors], scales: [1, 1])
        let d = exact.shape[1]
        let x = Array(exact.scalars[0..<d]).map(Double.init), y = Array(exact.scalars[d...]).map(Double.init)
        let dot = { (u: [Double], v: [Double]) in zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        let (normX, inner, normY) = (dot(x, x), dot(x, y), dot(y, y))
        var ratios: [Double] = [], innerErrors: [Double] = []
        for seed in 0..<1_000 {
            let projection = try KroneckerProjection(dimension: 256, for: [factors], seed: UInt64(seed))
            #expect(projection.blocks[0].outputFactor.shape[0] == 16 && projection.blocks[0].inputFactor.shape[0] == 16)
            let p = try GradientRowMap.projected(projection).rows([factors], scales: [1, 1])
            let k = p.shape[1]
            let px = Array(p.scalars[0..<k]).map(Double.init), py = Array(p.scalars[k...]).map(Double.init)
            ratios.append(dot(px, px) / normX)
            innerErrors.append((dot(px, py) - inner) / (normX * normY).squareRoot())
        }
        let count = Double(ratios.count)
        let mean = ratios.reduce(0, +) / count
        let variance = ratios.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (count - 1)
        let theory = (1 + 2.0 / 16) * (1 + 2.0 / 16) - 1
        #expect(abs(mean - 1) < 4 * (theory / count).squareRoot(), "mean ratio \(mean)")
        #expect(abs(variance / theory - 1) < 0.25, "variance \(variance) against \(theory)")
        let innerMean = innerErrors.reduce(0, +) / count
        let innerSD = (innerErrors.reduce(0) { $0 + $1 * $1 } / count).squareRoot()
        #expect(abs(innerMean) < 4 * innerSD / count.squareRoot(), "inner-product bias \(innerMean) (sd \(innerSD))")
    }

    /// The relative variance of `‖A M Bᵀ‖²/‖M‖²` over the Gaussian factors for a fixed `M` [O, C]:
    /// ```
    /// σ² = (2/b)((1 + 1/a) s + 1/a) + (2/a) s,      s = ‖MᵀM‖²_F / ‖M‖⁴ ∈ [1/min(O, C), 1]
    /// ```
    /// (s = 1 for a rank-one M gives `(1 + 2/a)(1 + 2/b) − 1`; a dense Gaussian of K = ab would give 2/K).
    static func relativeVariance(_ m: [[Double]], a: Double, b: Double) -> Double {
        let columns = m[0].count
        var gram = Array(repeating: Array(repeating: 0.0, count: columns), count: columns)
        for row in m { for i in 0..<columns { for j in 0..<columns { gram[i][j] += row[i] * row[j] } } }
        let norm = m.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } }
        let s = gram.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } } / (norm * norm)
        return 2 / b * ((1 + 1 / a) * s + 1 / a) + 2 / a * s
    }

    /// The Johnson–Lindenstrauss property for one projection and many gradients: each squared norm's relative
    /// error, in units of its own standard deviation (`relativeVariance`), exceeds 3 for at most 1/9 of the
    /// gradients (Chebyshev) and has mean square near 1 — for full-rank conv-like gradients (P = 96 positions) and
    /// their pairwise sums, whose norms give the inner products by polarisation.
    @Test func projectedNormsStayWithinTheBound() throws {
        let (n, o, i) = (40, 32, 63)
        let factors = try Self.randomFactors(samples: n, outputs: o, inputs: i, positions: 96, seed: 2)
        let exact = try GradientRowMap.exact.rows([factors], scales: [1, 1])
        let projection = try KroneckerProjection(dimension: 1024, for: [factors], seed: 9)
        let (a, b) = (
            Double(projection.blocks[0].outputFactor.shape[0]), Double(projection.blocks[0].inputFactor.shape[0])
        )
        let projected = try GradientRowMap.projected(projection).rows([factors], scales: [1, 1])
        func row(_ t: Tensor, _ index: Int) -> [Double] {
            let width = t.shape[1]
            return t.scalars[(index * width)..<((index + 1) * width)].map(Double.init)
        }
        /// A row as the matrix [∂W | ∂b], [O, I+1].
        func matrix(_ r: [Double]) -> [[Double]] {
            (0..<o).map { Array(r[($0 * i)..<(($0 + 1) * i)]) + [r[o * i + $0]] }
        }
        let dot = { (u: [Double], v: [Double]) in zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        let add = { (u: [Double], v: [Double]) in zip(u, v).map { $0 + $1 } }
        var z: [Double] = []
        for k in 0..<n {
            // The gradient alone, and the sum with the next one (‖x + y‖² − ‖x‖² − ‖y‖² = 2⟨x, y⟩).
            for (x, px) in [
                (row(exact, k), row(projected, k)),
                (add(row(exact, k), row(exact, (k + 1) % n)), add(row(projected, k), row(projected, (k + 1) % n))),
            ] {
                let ratio = dot(px, px) / dot(x, x)
                z.append((ratio - 1) / Self.relativeVariance(matrix(x), a: a, b: b).squareRoot())
            }
        }
        let beyond = z.filter { abs($0) > 3 }.count
        let meanSquare = z.reduce(0) { $0 + $1 * $1 } / Double(z.count)
        #expect(Double(beyond) <= Double(z.count) / 9, "\(beyond) of \(z.count) norms beyond 3 sd")
        #expect(meanSquare > 0.2 && meanSquare < 3, "mean square of standardised errors \(meanSquare)")
    }

    @Test func refusesProjectionsThatDoNotFit() throws {
        let (top, _, _) = try Self.denseTop()
        let size = top.parameters.reduce(0) { $0 + $1.count }
        #expect(throws: GradFeatError.self) { try KroneckerProjection(dimension: size + 2, top: top, seed: 0) }
        #expect(throws: GradFeatError.self) { try KroneckerProjection(dimension: 7, top: top, seed: 0) }
        #expect(throws: GradFeatError.self) { try KroneckerProjection(dimension: 0, top: top, seed: 0) }
        // The dense layer is 5×7: 36 dimensions have no factorization a·b with a ≤ 5, b ≤ 7.
        #expect(throws: GradFeatError.self) { try KroneckerProjection(dimension: 72, top: top, seed: 0) }
        // A linearized layer without per-sample gradients is named; the explicit model falls back to one pass per
        // sample and class and still gives the Jacobian.
        struct Scale: Layer {
            var parameters: [Tensor] = [Tensor(shape: [1]) { $0[0] = 1.5 }]
            var parameterNames: [String] { ["weight"] }
            func outputShape(for input: Shape) throws -> Shape { input }
            func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
            {
                var value = input
                value.scale(by: parameters[0].scalars[0])
                var outputTangent = tangent.map { t -> Tensor in
                    var t = t; t.scale(by: parameters[0].scalars[0]); return t
                }
                if let parameterTangent {
                    var extra = input
                    extra.scale(by: parameterTangent[0].scalars[0])
                    if outputTangent == nil { outputTangent = extra } else { try outputTangent!.add(extra) }
                }
                return LayerOutput(value: value, tangent: outputTangent, record: Record(input: input))
            }
            func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients
            {
                var dx = outputGradient
                dx.scale(by: parameters[0].scalars[0])
                return Gradients(
                    input: needInputGradient ? dx : nil,
                    parameters: [try Tensor(shape: [1], scalars: [Float(try record.input.dot(outputGradient))])])
            }
        }
        var rng = SeededRandom(seed: 4)
        let custom = try LinearizedTop(
            Sequential([NamedLayer("scale", Scale()), NamedLayer("dense", Dense(inputs: 3, outputs: 2, rng: &rng))]),
            linearize: ["scale", "dense"])
        #expect(!custom.supportsPerSampleGradients)
        let x = randomTensor([3, 3], &rng)
        let refusal = #expect(throws: TensorError.self) {
            try GradientRows(top: custom, head: LinearHead(features: 2, classes: 2, rng: &rng)).jacobianRows(x)
        }
        #expect(refusal.map { "\($0)".contains("PerSampleGradientLayer") } == true)
        let explicit = ExplicitGradientFeatures(top: custom, omegaBar: LinearHead(features: 2, classes: 2, rng: &rng))
        #expect(try explicit.gradientFeatures(x).shape == [3, 2, 1 + 6 + 2])
    }
}
