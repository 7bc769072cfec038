import GradFeat
import Tensor

/// The contract every `Head` keeps, checked in one line: `try HeadConformance.check(MLPHead(…))`.
///
/// - logits of shape [N, classCount], the same twice;
/// - `jvp(at:tangent:)` against the central difference of `logits` along the tangent;
/// - `vjp(at:cotangent:)`: its feature part is the adjoint of `jvp` (`⟨g, J ḟ⟩ = ⟨Jᵀ g, ḟ⟩`), its parameter part
///   matches central differences of `Σ logits ⊙ g`;
/// - features of the wrong width are thrown as an error.
public enum HeadConformance {
    public static func check(_ head: some Head, batchSize: Int = 5, samplesPerTensor: Int = 6) throws {
        let subject = "head \(type(of: head))"
        let problems = ProblemList()
        var rng = SeededRandom(seed: 0x4EAD)
        let features = Tensor.normal([batchSize, head.featureCount], using: &rng)
        let tangent = Tensor.normal([batchSize, head.featureCount], using: &rng)
        var head = head
        problems.attempt("logits") {
            let logits = try head.logits(features)
            problems.check(
                logits.shape == Shape([batchSize, head.classCount]),
                "logits have shape \(logits.shape), expected [\(batchSize), \(head.classCount)]")
            problems.check(logits.scalars == (try head.logits(features)).scalars, "two passes give different logits")
        }
        try problems.throwIfAny(subject: subject)
        let cotangent = Tensor.normal([batchSize, head.classCount], using: &rng)
        problems.attempt("jvp and vjp") {
            let jvp = try head.jvp(at: features, tangent: tangent)
            let step: Float = 1e-3
            var plus = features, minus = features
            try plus.add(tangent, scaledBy: step)
            try minus.add(tangent, scaledBy: -step)
            let numeric =
                FiniteDifferences.dot(try head.logits(plus), cotangent)
                - FiniteDifferences.dot(try head.logits(minus), cotangent)
            let directional = FiniteDifferences.dot(jvp, cotangent)
            problems.check(
                FiniteDifferences.agree(directional, numeric / Double(2 * step), scale: abs(directional)),
                "jvp disagrees with the central difference of logits along the tangent "
                    + "(\(directional) vs \(numeric / Double(2 * step)))")
            let vjp = try head.vjp(at: features, cotangent: cotangent)
            let adjoint = FiniteDifferences.dot(vjp.features, tangent)
            problems.check(
                FiniteDifferences.agree(adjoint, directional, scale: abs(directional)),
                "vjp's feature gradient is not the adjoint of jvp (⟨Jᵀg, ḟ⟩ = \(adjoint), ⟨g, Jḟ⟩ = \(directional))")
            problems.check(
                vjp.parameters.map(\.shape) == head.parameters.map(\.shape),
                "vjp's parameter gradients have shapes \(vjp.parameters.map(\.shape.dimensions)), the "
                    + "parameters \(head.parameters.map(\.shape.dimensions))")
            guard vjp.parameters.map(\.shape) == head.parameters.map(\.shape) else { return }
            let original = head.parameters
            var mismatches: [String] = []
            for (t, gradient) in vjp.parameters.enumerated() {
                let scale = gradient.scalars.map { Double(abs($0)) }.max() ?? 0
                for i in FiniteDifferences.sampleIndices(size: gradient.count, count: samplesPerTensor, rng: &rng) {
                    let value = original[t].scalars[i]
                    var up = original, down = original
                    up[t].withUnsafeMutableBufferPointer { $0[i] = value + step }
                    down[t].withUnsafeMutableBufferPointer { $0[i] = value - step }
                    head.parameters = up
                    let lossUp = FiniteDifferences.dot(try head.logits(features), cotangent)
                    head.parameters = down
                    let lossDown = FiniteDifferences.dot(try head.logits(features), cotangent)
                    let numeric = (lossUp - lossDown) / (Double(value + step) - Double(value - step))
                    if !FiniteDifferences.agree(Double(gradient.scalars[i]), numeric, scale: scale) {
                        mismatches.append("\(head.parameterNames[t])[\(i)]: \(gradient.scalars[i]) vs \(numeric)")
                    }
                }
            }
            head.parameters = original
            problems.check(
                mismatches.isEmpty,
                "parameter gradients disagree with finite differences: "
                    + mismatches.prefix(4).joined(separator: "; "))
        }
        let threw = (try? head.logits(Tensor.zeros([2, head.featureCount + 1]))) == nil
        problems.check(threw, "logits of features [2, \(head.featureCount + 1)] (one too wide) did not throw")
        try problems.throwIfAny(subject: subject)
    }
}
