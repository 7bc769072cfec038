import Foundation
import Tensor

/// Per-class sigmoid binary cross-entropy for multi-label targets, averaged over the (sample, class) pairs that are
/// not marked difficult:
/// ```
/// ℓ = −[t log σ(z) + (1 − t) log(1 − σ(z))],   ∂ℓ/∂z = σ(z) − t
/// ```
public struct SigmoidBinaryCrossEntropy: Loss {
    public init() {}

    public func evaluate(logits: Tensor, targets: Targets) throws -> (loss: Double, gradient: Tensor) {
        guard case let .multiLabel(flags, classCount) = targets else {
            throw TensorError.invalidArgument("binary cross-entropy needs multi-label targets")
        }
        try checkLogits(logits, rows: targets.count, classes: classCount, "binary cross-entropy")
        let counted = flags.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let scale = 1 / Float(max(counted, 1))
        var total = 0.0
        let gradient = Tensor(shape: logits.shape) { g in
            logits.withUnsafeBufferPointer { z in
                for i in 0..<z.count {
                    guard flags[i] >= 0 else { g[i] = 0; continue }
                    let t: Float = flags[i] > 0 ? 1 : 0, x = z[i]
                    // log(1 + e^{−|x|}) + max(x, 0) − t·x, the stable form.
                    total += Double(log1p(exp(-abs(x))) + max(x, 0) - t * x)
                    g[i] = (1 / (1 + exp(-x)) - t) * scale
                }
            }
        }
        let loss = total / Double(max(counted, 1))
        try checkFinite(loss, "binary cross-entropy")
        return (loss, gradient)
    }

    /// The (sample, class) pairs not marked difficult.
    public func normalizer(for targets: Targets, shape: Shape) -> Double {
        guard case let .multiLabel(flags, _) = targets else { return Double(shape.rank > 0 ? shape[0] : 0) }
        return Double(flags.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) })
    }
}
