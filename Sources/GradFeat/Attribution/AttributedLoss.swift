import Foundation
import Layers

/// The loss whose leave-one-out effect an attribution scores, with what the Newton step needs of it in the logits
/// `z` of one sample of label `y`: its gradient `g = ∂ℓ/∂z` and its curvature `W = ∂²ℓ/∂z²` (c × c).
/// ```
/// squared error   ℓ = ½‖z − s·e_y‖²        g = z − s·e_y          W = I              (the step is exact)
/// cross-entropy   ℓ = −log softmax(z)_y    g = softmax(z) − e_y   W = diag(p) − ppᵀ  (one Newton step)
/// ```
public enum AttributedLoss: Sendable, Equatable {
    /// `--loss mse` with target scale `s`: the objective is quadratic, so one Newton step is the refit.
    case squaredError(targetScale: Double)
    /// `--loss ce`: the refit is approximated by one Newton step with the loss's exact Hessian in the logits.
    case crossEntropy

    /// True when the scores are the refit's (to the optimum's accuracy), not an approximation.
    public var isExact: Bool {
        if case .squaredError = self { return true }
        return false
    }

    /// The loss of a training configuration, or nil for one no attribution is defined for (multi-label losses).
    public init?(_ kind: TrainingConfiguration.LossKind?, targetScale: Float) {
        switch kind {
        case .mse: self = .squaredError(targetScale: Double(targetScale))
        case .ce, nil: self = .crossEntropy
        default: return nil
        }
    }

    /// `g` of one sample.
    func gradient(logits z: ArraySlice<Double>, label: Int) -> [Double] {
        var g: [Double]
        switch self {
        case let .squaredError(scale):
            g = Array(z)
            g[label] -= scale
        case .crossEntropy:
            g = Self.softmax(z)
            g[label] -= 1
        }
        return g
    }

    /// `∂m/∂z` of the function a score measures: the true-class logit `z_y` (squared error), or the true-class
    /// margin `z_y − log Σ_{k≠y} exp z_k` (cross-entropy, whose logits are determined only up to a common shift).
    func measuredGradient(logits z: ArraySlice<Double>, label: Int) -> [Double] {
        var a = [Double](repeating: 0, count: z.count)
        switch self {
        case .squaredError: break
        case .crossEntropy:
            var others = Array(z)
            others[label] = -.infinity
            let p = Self.softmax(others[...])
            for k in 0..<z.count where k != label { a[k] = -p[k] }
        }
        a[label] = 1
        return a
    }

    /// `W` of one sample, row-major c × c; nil for the identity.
    func curvature(logits z: ArraySlice<Double>) -> [Double]? {
        guard case .crossEntropy = self else { return nil }
        let p = Self.softmax(z), c = p.count
        var w = [Double](repeating: 0, count: c * c)
        for a in 0..<c {
            for b in 0..<c { w[a * c + b] = (a == b ? p[a] : 0) - p[a] * p[b] }
        }
        return w
    }

    /// `softmax(z)`, shifted by the largest logit so no exponential overflows.
    static func softmax(_ z: ArraySlice<Double>) -> [Double] {
        let top = z.max() ?? 0
        let e = z.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
