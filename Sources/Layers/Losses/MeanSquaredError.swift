import Tensor

/// The mean squared error `(1/N) Σ_n ½‖z_n − t_n‖²` against real-valued targets (autoencoder reconstruction),
/// whose gradient is `(z − t)/N`.
public struct MeanSquaredError: Loss {
    public init() {}

    public func evaluate(logits: Tensor, targets: Targets) throws -> (loss: Double, gradient: Tensor) {
        guard case let .values(t) = targets else {
            throw TensorError.invalidArgument("mean squared error needs real-valued targets (Targets.values)")
        }
        let target = try t.reshaped(logits.shape)
        var gradient = try logits - target
        let n = Float(max(logits.shape[0], 1))
        let loss = 0.5 * gradient.squaredNorm() / Double(n)
        gradient.scale(by: 1 / n)
        try checkFinite(loss, "mean squared error")
        return (loss, gradient)
    }
}
