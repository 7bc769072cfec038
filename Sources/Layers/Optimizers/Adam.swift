import Foundation
import Tensor

/// Adam with L2 weight decay added to the gradient, as PyTorch's `torch.optim.Adam`:
/// ```
/// g ← g + λ θ,  m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,
/// θ ← θ − η · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
/// ```
/// The paper trains GradFeat with β1 = 0.5, β2 = 0.999, λ = 1e-6, η = 1e-3 halved every 20K iterations.
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var step = 0
    public var firstMoment: [Tensor] = []
    public var secondMoment: [Tensor] = []

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public var state: [Tensor] {
        get { firstMoment + secondMoment }
        set {
            let half = newValue.count / 2
            firstMoment = Array(newValue[..<half])
            secondMoment = Array(newValue[half...])
        }
    }
    public var stateNames: [String] {
        firstMoment.indices.map { "m.\($0)" } + secondMoment.indices.map { "v.\($0)" }
    }

    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor]) throws {
        try checkGradients(parameters, gradients)
        if firstMoment.count != parameters.count {
            firstMoment = parameters.map { .zeros(like: $0) }
            secondMoment = firstMoment
        }
        step += 1
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let correction1 = 1 - pow(b1, Float(step)), correction2 = 1 - pow(b2, Float(step))
        let stepSize = learningRate / correction1, rootCorrection2 = correction2.squareRoot()
        for i in parameters.indices {
            parameters[i].withUnsafeMutableBufferPointer { p in
                firstMoment[i].withUnsafeMutableBufferPointer { m in
                    secondMoment[i].withUnsafeMutableBufferPointer { v in
                        gradients[i].withUnsafeBufferPointer { g in
                            let (n, p, m, v, g) = (
                                p.count, p.baseAddress!, m.baseAddress!, v.baseAddress!, g.baseAddress!
                            )
                            Parallel.forEachSlice(of: n) { slice in
                                for j in slice {
                                    let d = g[j] + wd * p[j]
                                    m[j] = b1 * m[j] + (1 - b1) * d
                                    v[j] = b2 * v[j] + (1 - b2) * d * d
                                    p[j] -= stepSize * m[j] / (v[j].squareRoot() / rootCorrection2 + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
