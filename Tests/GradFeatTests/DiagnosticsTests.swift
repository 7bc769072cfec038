import Foundation
import GradFeat
import Layers
import Tensor
import TestSupport
import Testing

/// The linearization gap as a Taylor remainder, the layer shares as a decomposition, kernel alignment at its
/// extremes.
@Suite struct DiagnosticsTests {
    /// A trained-looking gradient model of the small network: random w2, on random activations at the split.
    static func model(linearize: [String], seed: UInt64 = 3) throws -> (GradientFeatures, InMemoryBatches) {
        let network = GradFeatModelTests.smallNetwork()
        var model = try GradientFeatures(
            network: network, splitAt: linearize[0], linearize: linearize,
            omegaBar: network.head)
        var rng = SeededRandom(seed: seed)
        model.tangent = model.tangent.map { randomTensor($0.shape, &rng, scale: 0.5) }
        let shape = try network.bottom(GradFeatModelTests.input(1), splitAt: linearize[0]).shape.dimensions.dropFirst()
        let inputs = randomTensor(Shape([200] + shape), &rng)
        let data = try InMemoryBatches(inputs: inputs, targets: .classes((0..<200).map { $0 % 3 }), classCount: 3)
        return (model, data)
    }

    /// `‖F_net(t) − L(t)‖ = O(t²)` and `‖L(t) − F(θ̄)‖ = t‖g‖`, so the relative gap falls like t: halving t halves
    /// it (the network is piecewise linear, so the ratio is measured over a decade, not at one step).
    @Test func gapVanishesLinearlyInT() throws {
        let (model, data) = try Self.model(linearize: ["block", "conv3"])
        let points = try LinearizationDiagnostics(model).gap(on: data, grid: [0.001, 0.01, 0.1, 1])
        let gaps = points.map(\.relativeGap)
        #expect(gaps.allSatisfy { $0.isFinite && $0 >= 0 }, "\(gaps)")
        #expect(gaps[3] > 0.01, "no gap at t = 1: the check would pass for any model: \(gaps)")
        // Slopes on a log–log plot between consecutive decades: about 1 for a Taylor remainder.
        for i in 1..<3 where gaps[i] > 1e-5 {
            let slope = log10(gaps[i + 1] / gaps[i])
            #expect(
                slope > 0.5 && slope < 1.5,
                "log-log slope \(slope) between t = \(points[i].t) and \(points[i + 1].t): \(gaps)")
        }
        #expect(gaps[0] < 0.02 * gaps[3], "gap at t = 0.001 is not small against t = 1: \(gaps)")
    }

    /// The moved network at t = 0 is the network, and so is the linear model: both score alike.
    @Test func gapAtZeroIsZero() throws {
        let (model, data) = try Self.model(linearize: ["conv3"])
        let point = try LinearizationDiagnostics(model).gap(on: data, grid: [0])[0]
        #expect(point.relativeGap == 0 && point.networkMetric == point.linearMetric)
    }

    /// The shares decompose the gradient term (they sum to 1), and one linearized layer carries all of it.
    @Test(arguments: [["conv3"], ["block", "conv3"], ["conv2", "block", "conv3"]])
    func layerSharesSumToOne(linearize: [String]) throws {
        let (model, data) = try Self.model(linearize: linearize)
        let shares = try LinearizationDiagnostics(model).layerShares(on: data)
        #expect(shares.map(\.layer) == linearize)
        let total = shares.reduce(0) { $0 + $1.share }
        #expect(abs(total - 1) < 1e-4, "shares \(shares) sum to \(total)")
        if linearize.count == 1 { #expect(abs(shares[0].share - 1) < 1e-6 && abs(shares[0].relativeNorm - 1) < 1e-6) }
    }

    /// A layer whose w2 is zero carries none of the term.
    @Test func aLayerWithZeroTangentHasNoShare() throws {
        var (model, data) = try Self.model(linearize: ["block", "conv3"])
        let blockCount = model.top.layers.layers[0].layer.parameters.count
        model.tangent = model.tangent.enumerated().map {
            $0.offset < blockCount ? .zeros(like: $0.element) : $0.element
        }
        let shares = try LinearizationDiagnostics(model).layerShares(on: data)
        #expect(abs(shares[0].share) < 1e-9 && abs(shares[1].share - 1) < 1e-5, "\(shares)")
    }

    /// 1 for the labels' own kernel, near 0 for noise (n = 400, D = 20: the noise's expected alignment is about
    /// 0.02), in between for labels plus noise.
    @Test func alignmentIsOneForTheLabelKernelAndSmallForNoise() throws {
        let labels = (0..<400).map { $0 % 4 }
        let onehot = try Tensor(shape: [400, 4], scalars: labels.flatMap { l in (0..<4).map { $0 == l ? 2 : 0 } })
        #expect(abs(try KernelAlignment.centred(rows: onehot, targets: .classes(labels), classes: 4) - 1) < 1e-6)
        var rng = SeededRandom(seed: 1)
        let noise = randomTensor([400, 20], &rng)
        let none = try KernelAlignment.centred(rows: noise, targets: .classes(labels), classes: 4)
        #expect(abs(none) < 0.06, "alignment of noise \(none)")
        var mixed = noise
        for (i, l) in labels.enumerated() { mixed.scalars[i * 20 + l] += 3 }
        let between = try KernelAlignment.centred(rows: mixed, targets: .classes(labels), classes: 4)
        #expect(between > 0.2 && between < 1, "alignment \(between)")
        // A shift of every row changes nothing (the kernel is centred), and a label out of range is refused.
        var shifted = mixed
        for i in 0..<shifted.count { shifted.scalars[i] += 50 }
        #expect(abs(try KernelAlignment.centred(rows: shifted, targets: .classes(labels), classes: 4) - between) < 1e-4)
        #expect(throws: GradFeatError.self) {
            try KernelAlignment.centred(rows: noise, targets: .classes(labels.map { $0 + 1 }), classes: 4)
        }
    }
}
