import Foundation
import GradFeat
import Layers
import Tensor

/// The contract every `FeatureExtractor` plugin must keep, checked in one line from a plugin author's test:
///
/// ```swift
/// @Test func conformance() throws { try ExtractorConformance.check(ProbeExtractor.plugin) }
/// ```
///
/// It builds the extractor from its plugin on a small seeded network (`context`), and checks
/// - names: one unique name per parameter tensor;
/// - forward determinism: two evaluation passes give bit-identical logits of shape [N, classes];
/// - parameter gradients against central finite differences of `L = Σ logits ⊙ R` (R fixed and random);
/// - checkpoint round trip: parameters saved with `CheckpointFile`, loaded into a freshly built extractor, give
///   bit-identical logits;
/// - for an extractor conforming to `AffineInParameters`: its tangent pass against finite differences of its
///   forward pass, and its backward pass as the tangent pass's adjoint;
/// - a wrong input shape is thrown as an error (a crash fails the test run, which is the point).
public enum ExtractorConformance {
    /// A small, seeded context: a two-convolution network on 3×8×8 inputs with 3 classes, split at `conv2`
    /// (linearized), ω̄ its head. The extractor's input is the bottom's output [N, 4, 6, 6].
    public static func smallContext(seed: UInt64 = 7) throws -> ExtractorContext {
        var rng = SeededRandom(seed: seed)
        let backbone = Sequential([
            NamedLayer("conv1", Conv2D(3, 4, kernel: 3, rng: &rng)),
            NamedLayer("relu1", ReLU()),
            NamedLayer("conv2", Conv2D(4, 5, kernel: 3, padding: 1, rng: &rng)),
            NamedLayer("relu2", ReLU()),
            NamedLayer("pool", GlobalAvgPool()),
            NamedLayer("flatten", Flatten()),
        ])
        let network = Network(
            modelName: "conformance-net", backbone: backbone,
            head: LinearHead(features: 5, classes: 3, rng: &rng), inputShape: [3, 8, 8], inputScaling: .unit)
        return ExtractorContext(
            network: network, split: "conv2", linearize: ["conv2"], classes: 3,
            omegaBar: network.head, seed: seed)
    }

    /// Checks `plugin` built with `options` on `context` (default `smallContext()`), on a batch of `batchSize`
    /// random inputs of the bottom. Throws a `ConformanceFailure` listing every property that does not hold.
    public static func check(
        _ plugin: ExtractorPlugin, options: PluginOptions = PluginOptions(), context: ExtractorContext? = nil,
        batchSize: Int = 4, samplesPerTensor: Int = 6
    ) throws {
        let context = try context ?? smallContext()
        let subject = "extractor '\(plugin.name)'"
        let problems = ProblemList()
        var rng = SeededRandom(seed: 0xC0FF)
        let bottom = try context.network.bottom(splitAt: context.split)
        let images = Tensor.normal(Shape([batchSize] + context.network.inputShape.dimensions), using: &rng)
        let input = try bottom.forward(images)

        var extractor = try plugin.make(context, options)
        let names = extractor.parameterNames
        problems.check(
            names.count == extractor.parameters.count,
            "parameterNames has \(names.count) names for \(extractor.parameters.count) parameter tensors")
        problems.check(Set(names).count == names.count, "parameterNames repeats a name: \(names)")

        // Forward: shape and determinism.
        var logits = Tensor.zeros([1])
        problems.attempt("forward") {
            logits = try extractor.logits(input)
            let again = try extractor.logits(input)
            problems.check(
                logits.shape == Shape([batchSize, context.classes]),
                "logits have shape \(logits.shape), expected [\(batchSize), \(context.classes)]")
            problems.check(logits.scalars == again.scalars, "two evaluation passes on one input give different logits")
            problems.check(logits.isFinite, "logits are not finite")
        }
        guard problems.problems.isEmpty else { return try problems.throwIfAny(subject: subject) }

        // Gradients against central differences of L = Σ logits ⊙ R.
        let weights = Tensor.normal(logits.shape, using: &rng)
        func loss(_ e: any FeatureExtractor) throws -> Double {
            FiniteDifferences.dot(try e.logits(input), weights)
        }
        problems.attempt("parameterGradients") {
            let gradients = try extractor.gradients(input, mode: .evaluation) { _ in weights }.gradients
            problems.check(
                gradients.map(\.shape) == extractor.parameters.map(\.shape),
                "gradient shapes \(gradients.map(\.shape.dimensions)) differ from parameter shapes "
                    + "\(extractor.parameters.map(\.shape.dimensions))")
            guard gradients.map(\.shape) == extractor.parameters.map(\.shape) else { return }
            let original = extractor.parameters
            var mismatches: [String] = []
            for (t, gradient) in gradients.enumerated() {
                let scale = gradient.scalars.map { Double(abs($0)) }.max() ?? 0
                for i in FiniteDifferences.sampleIndices(size: gradient.count, count: samplesPerTensor, rng: &rng) {
                    let value = original[t].scalars[i]
                    let step = 1e-3 * max(1, abs(value))
                    var plus = original, minus = original
                    plus[t].withUnsafeMutableBufferPointer { $0[i] = value + step }
                    minus[t].withUnsafeMutableBufferPointer { $0[i] = value - step }
                    extractor.parameters = plus
                    let up = try loss(extractor)
                    extractor.parameters = minus
                    let down = try loss(extractor)
                    let numeric = (up - down) / (Double(value + step) - Double(value - step))
                    let analytic = Double(gradient.scalars[i])
                    if !FiniteDifferences.agree(analytic, numeric, scale: scale) {
                        mismatches.append(
                            "\(names.indices.contains(t) ? names[t] : "#\(t)")[\(i)]: "
                                + String(format: "analytic %.5g, finite difference %.5g", analytic, numeric))
                    }
                }
            }
            extractor.parameters = original
            problems.check(
                mismatches.isEmpty,
                "parameter gradients disagree with central finite differences (check parameterGradients "
                    + "against forward): " + mismatches.prefix(4).joined(separator: "; "))
        }

        // Checkpoint round trip, bit for bit.
        problems.attempt("the checkpoint round trip") {
            var trained = extractor
            var perturbed = trained.parameters
            for t in perturbed.indices {
                let noise = Tensor.normal(perturbed[t].shape, std: 0.01, using: &rng)
                try perturbed[t].add(noise)
            }
            trained.parameters = perturbed
            let expected = try trained.logits(input)
            let url = FileManager.default.temporaryDirectory
                .appendingPathComponent("gradfeat-conformance-\(plugin.name)-\(UUID().uuidString).h5")
            defer { try? FileManager.default.removeItem(at: url) }
            let state = TrainingState(
                iteration: 1, parameters: trained.parameters, parameterNames: trained.parameterNames,
                optimizerState: [],
                optimizerStep: 0, randomState: [1, 2, 3, 4], configuration: .paper(iterations: 1), history: [])
            try CheckpointFile.save(state, extractor: plugin.name, to: url)
            let loaded = try CheckpointFile.load(url)
            var rebuilt = try plugin.make(context, options)
            problems.check(
                loaded.state.parameterNames == rebuilt.parameterNames,
                "a freshly built extractor names its parameters \(rebuilt.parameterNames), the checkpoint "
                    + "\(loaded.state.parameterNames)")
            rebuilt.parameters = loaded.state.parameters
            let restored = try rebuilt.logits(input)
            problems.check(
                restored.scalars == expected.scalars,
                "logits after a checkpoint round trip differ from before (are all trained values in "
                    + "`parameters`, and does setting them update what forward reads?)")
        }

        // An extractor that says it is affine in its parameters must be: F(w + v) − F(w) = J v along random
        // directions, and ⟨J v, R⟩ = ⟨v, Jᵀ R⟩ (its tangent pass and its backward pass are adjoint).
        if let affine = extractor as? any AffineInParameters {
            problems.attempt("AffineInParameters") {
                try checkAffine(affine, input: input, weights: weights, rng: &rng, problems: problems)
            }
        }

        // A wrong input shape is an error.
        var wrong = input.shape.dimensions
        wrong[1] += 1
        let threw = (try? extractor.logits(Tensor.zeros(Shape(wrong)))) == nil
        problems.check(
            threw,
            "forward on an input of shape \(wrong) (one channel too many) did not throw: check shapes "
                + "and throw TensorError.shapeMismatch")
        try problems.throwIfAny(subject: subject)
    }

    private static func checkAffine<Extractor: AffineInParameters>(
        _ extractor: Extractor, input: Tensor, weights: Tensor, rng: inout SeededRandom, problems: ProblemList
    ) throws {
        let w = extractor.parameters.map { Tensor.normal($0.shape, std: 0.1, using: &rng) }
        let v = extractor.parameters.map { Tensor.normal($0.shape, std: 0.1, using: &rng) }
        var at = extractor, moved = extractor
        at.parameters = w
        moved.parameters = try zip(w, v).map { pair in
            var sum = pair.0
            try sum.add(pair.1)
            return sum
        }
        let tangent = try extractor.directionalForward(input, direction: v)
        // (F(w + v) − F(w)) − J v, relative to J v.
        var gap = try moved.logits(input)
        try gap.add(try at.logits(input), scaledBy: -1)
        try gap.add(tangent.logits, scaledBy: -1)
        let relative =
            (FiniteDifferences.dot(gap, gap)
            / max(FiniteDifferences.dot(tangent.logits, tangent.logits), 1e-12)).squareRoot()
        problems.check(
            relative < 1e-3,
            "it conforms to AffineInParameters, but F(w + v) − F(w) differs from directionalForward's J v "
                + String(format: "(relative %.3g): is the model really affine in its parameters?", relative))
        let adjoint = try extractor.parameterGradients(tangent, logitsGradient: weights)
        let left = FiniteDifferences.dot(tangent.logits, weights)
        let right = zip(v, adjoint).reduce(0) { $0 + FiniteDifferences.dot($1.0, $1.1) }
        problems.check(
            abs(left - right) <= 1e-3 * max(abs(left), abs(right), 1e-6),
            "⟨J v, R⟩ = \(left) but ⟨v, Jᵀ R⟩ = \(right): parameterGradients of directionalForward's output "
                + "must apply the transpose of its tangent map")
    }
}
