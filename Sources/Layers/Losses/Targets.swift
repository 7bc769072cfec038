import Tensor

/// The labels of a mini-batch.
public enum Targets: Sendable, Equatable {
    /// One class index per sample.
    case classes([Int])
    /// `flags` [N, K] row-major: 1 present, 0 absent, −1 difficult (ignored by the loss and by AP).
    case multiLabel(flags: [Int8], classCount: Int)
    /// Real-valued targets [N, …] (reconstruction by an autoencoder).
    case values(Tensor)

    /// The targets of the samples at `indices`.
    public func gathering(_ indices: [Int]) -> Targets {
        switch self {
        case let .classes(labels): return .classes(indices.map { labels[$0] })
        case let .multiLabel(flags, k):
            var out = [Int8]()
            out.reserveCapacity(indices.count * k)
            for i in indices { out.append(contentsOf: flags[(i * k)..<((i + 1) * k)]) }
            return .multiLabel(flags: out, classCount: k)
        case let .values(tensor): return .values(tensor.gathering(rows: indices))
        }
    }

    public var count: Int {
        switch self {
        case let .classes(labels): return labels.count
        case let .multiLabel(flags, classCount): return flags.count / max(classCount, 1)
        case let .values(tensor): return tensor.rank > 0 ? tensor.shape[0] : 0
        }
    }
}

/// A loss over logits [N, K] and targets, with its gradient with respect to the logits.
public protocol Loss: Sendable {
    /// The mean loss over the batch and `∂loss/∂logits`; throws on a shape mismatch or a non-finite loss.
    func evaluate(logits: Tensor, targets: Targets) throws -> (loss: Double, gradient: Tensor)

    /// How many terms the loss of a batch averages over (samples; counted (sample, class) pairs for binary
    /// cross-entropy), so that batches' losses combine into the loss of their union: `Σ_b n_b ℓ_b / Σ_b n_b`.
    func normalizer(for targets: Targets, shape: Shape) -> Double
}

extension Loss {
    public func normalizer(for targets: Targets, shape: Shape) -> Double { Double(shape.rank > 0 ? shape[0] : 0) }

    func checkFinite(_ loss: Double, _ name: String) throws {
        guard loss.isFinite else {
            throw TensorError.nonFinite(
                what: "\(name) loss (the model diverged: lower the learning rate or enable gradient clipping)")
        }
    }

    /// Throws when a label is not a class of `classCount` logits.
    func checkLabels(_ labels: [Int], classCount k: Int) throws {
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            throw TensorError.invalidArgument("label \(bad) is outside 0..<\(k) (the model has \(k) outputs)")
        }
    }

    func checkLogits(_ logits: Tensor, rows: Int, classes: Int?, _ name: String) throws {
        guard logits.rank == 2, logits.shape[0] == rows, classes == nil || logits.shape[1] == classes! else {
            throw TensorError.shapeMismatch(
                operation: "\(name) logits", expected: [rows, classes ?? (logits.rank == 2 ? logits.shape[1] : 0)],
                got: logits.shape)
        }
    }
}

extension Loss {
    /// Each sample's own loss gradient `∂ℓ(zₙ, yₙ)/∂zₙ`, [N, K]: the loss evaluated on one row at a time, so that
    /// it holds for every loss whatever its batch normaliser (for a per-sample mean such as softmax cross-entropy
    /// or MSE it is N times the batch gradient).
    public func perSampleGradients(logits: Tensor, targets: Targets) throws -> Tensor {
        try checkLogits(logits, rows: targets.count, classes: nil, "per-sample loss gradients")
        let (n, k) = (logits.shape[0], logits.shape[1])
        var out = Tensor.zeros([n, k])
        for row in 0..<n {
            let gradient = try evaluate(logits: logits.rows(row..<(row + 1)), targets: targets.gathering([row]))
                .gradient
            out.scalars.replaceSubrange((row * k)..<((row + 1) * k), with: gradient.scalars)
        }
        return out
    }
}
