import Tensor

/// The mean squared error to scaled one-hot targets, LQF's loss for classification (Achille et al. 2021):
/// ```
/// ℓ = 1/(2N) Σ_n Σ_k m_nk (z_nk − s·t_nk)²,   ∂ℓ/∂z = m ⊙ (z − s·t) / N
/// ```
/// with `t` the one-hot label (single-label data) or the 0/1 flags (multi-label data), `s` the target scale, and
/// the mask `m` 0 for entries flagged difficult (−1), else 1. Quadratic in the logits, so a model linear in its
/// parameters has a quadratic objective that conjugate gradient solves exactly.
public struct OneHotMeanSquaredError: QuadraticLoss {
    public var targetScale: Float

    public init(targetScale: Float = 1) { self.targetScale = targetScale }

    public func evaluate(logits: Tensor, targets: Targets) throws -> (loss: Double, gradient: Tensor) {
        let (goal, mask) = try targetsAndMask(targets, shape: logits.shape)
        let n = logits.shape[0]
        var total = 0.0
        let gradient = Tensor(shape: logits.shape) { g in
            logits.withUnsafeBufferPointer { z in
                for i in 0..<z.count {
                    let difference = mask[i] * (z[i] - goal[i])
                    total += Double(difference * difference)
                    g[i] = difference / Float(max(n, 1))
                }
            }
        }
        let loss = 0.5 * total / Double(max(n, 1))
        try checkFinite(loss, "mean squared error")
        return (loss, gradient)
    }

    public func curvature(for targets: Targets, shape: Shape) throws -> [Float] {
        try targetsAndMask(targets, shape: shape).mask
    }

    /// `s·t` and the mask, row-major like the logits.
    private func targetsAndMask(_ targets: Targets, shape: Shape) throws -> (targets: [Float], mask: [Float]) {
        let rows = targets.count
        guard shape.rank == 2, shape[0] == rows else {
            throw TensorError.shapeMismatch(
                operation: "mean squared error logits", expected: [rows, shape.rank == 2 ? shape[1] : 0],
                got: shape)
        }
        let k = shape[1]
        var goal = [Float](repeating: 0, count: rows * k), mask = [Float](repeating: 1, count: rows * k)
        switch targets {
        case let .classes(labels):
            try checkLabels(labels, classCount: k)
            for (row, label) in labels.enumerated() { goal[row * k + label] = targetScale }
        case let .multiLabel(flags, classCount):
            guard classCount == k else {
                throw TensorError.shapeMismatch(
                    operation: "mean squared error logits", expected: [rows, classCount], got: shape)
            }
            for i in flags.indices {
                if flags[i] > 0 { goal[i] = targetScale }
                if flags[i] < 0 { mask[i] = 0 }
            }
        case .values:
            throw TensorError.invalidArgument(
                "the one-hot mean squared error needs class labels; use MeanSquaredError for real-valued targets")
        }
        return (goal, mask)
    }
}

/// A loss quadratic in the logits, `ℓ = 1/(2N) Σ c ⊙ (z − t)²`: its Hessian with respect to the logits is
/// `diag(c)/N`, which the Gauss–Newton operator of the conjugate-gradient solver applies.
public protocol QuadraticLoss: Loss {
    /// The weights `c` of the squared differences [N·K, row-major], for targets of logits shaped `shape`.
    func curvature(for targets: Targets, shape: Shape) throws -> [Float]
}

/// A single-label problem scored one class against the rest: each label becomes a one-hot row of multi-label
/// flags, so per-class binary cross-entropy (`--loss bce`) trains on single-label data.
public struct OneVersusRest<Base: Loss>: Loss {
    public var base: Base

    public init(_ base: Base) { self.base = base }

    public func evaluate(logits: Tensor, targets: Targets) throws -> (loss: Double, gradient: Tensor) {
        guard case let .classes(labels) = targets, logits.rank == 2 else {
            return try base.evaluate(logits: logits, targets: targets)
        }
        let k = logits.shape[1]
        try checkLabels(labels, classCount: k)
        var flags = [Int8](repeating: 0, count: labels.count * k)
        for (row, label) in labels.enumerated() { flags[row * k + label] = 1 }
        return try base.evaluate(logits: logits, targets: .multiLabel(flags: flags, classCount: k))
    }

    /// Every (sample, class) pair counts.
    public func normalizer(for targets: Targets, shape: Shape) -> Double {
        guard case .classes = targets, shape.rank == 2 else { return base.normalizer(for: targets, shape: shape) }
        return Double(shape[0] * shape[1])
    }
}
