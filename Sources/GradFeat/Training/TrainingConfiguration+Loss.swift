import Layers

extension TrainingConfiguration {
    /// The configured loss for data with `targets`' kind of labels: softmax cross-entropy (`ce`, single-label
    /// only), per-class binary cross-entropy (`bce`; single labels scored one class against the rest), or the mean
    /// squared error to `target_scale` times the one-hot or 0/1 targets (`mse`); unset, the one the labels call for.
    public func makeLoss(for targets: Targets) throws -> any Loss {
        try LossKind.loss(loss, targetScale: targetScale, for: targets)
    }

    /// The loss for the labels of `data` (read from its first sample).
    public func makeLoss(for data: some BatchSource) throws -> any Loss {
        try makeLoss(for: data.batch(Array(0..<min(1, data.count))).targets)
    }
}

extension TrainingConfiguration {
    /// How the models were fitted, in one line for a results table's notes.
    public var summary: String {
        let lossName =
            loss.map { " on \($0.rawValue)\($0 == .mse && targetScale != 1 ? " (targets ×\(targetScale))" : "")" } ?? ""
        let lambda = autoWeightDecay ? "auto" : "\(weightDecay)"
        switch solver {
        case .minibatch:
            return "\(iterations) iterations, \(optimizer.rawValue)\(lossName) lr \(learningRate), wd \(lambda), batch "
                + "\(batchSize), seed \(seed)"
        case .cg, .lbfgs:
            let name =
                solver == .cg
                ? "conjugate gradient" + (preconditioner == .jacobi ? " (Jacobi, \(probes) probes)" : "")
                : "L-BFGS (memory \(lbfgsMemory))"
            return "\(name)\(lossName), λ = \(lambda), tol \(tolerance), at most \(iterations) iterations, full batch, "
                + "seed \(seed)"
        }
    }
}

extension TrainingConfiguration.LossKind {
    /// The loss `kind` names (nil: the one the labels call for) for data with `targets`' kind of labels, as
    /// `TrainingConfiguration.makeLoss` describes.
    public static func loss(_ kind: Self?, targetScale: Float = 1, for targets: Targets) throws -> any Loss {
        let multiLabel: Bool
        switch targets {
        case .classes: multiLabel = false
        case .multiLabel: multiLabel = true
        case .values:
            throw GradFeatError.invalidConfiguration("loss: the targets are real values, not labels")
        }
        switch kind {
        case nil: return multiLabel ? SigmoidBinaryCrossEntropy() : SoftmaxCrossEntropy()
        case .ce?:
            guard !multiLabel else {
                throw GradFeatError.invalidConfiguration(
                    "loss ce (softmax cross-entropy) needs one label per image, and this data set is multi-label; "
                        + "use --loss bce or --loss mse")
            }
            return SoftmaxCrossEntropy()
        case .bce?: return multiLabel ? SigmoidBinaryCrossEntropy() : OneVersusRest(SigmoidBinaryCrossEntropy())
        case .mse?: return OneHotMeanSquaredError(targetScale: targetScale)
        }
    }
}
