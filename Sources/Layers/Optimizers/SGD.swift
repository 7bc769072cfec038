import Tensor

/// Stochastic gradient descent with momentum and L2 weight decay, as PyTorch's `torch.optim.SGD`:
/// ```
/// g ← g + λ θ,   v ← μ v + g,   θ ← θ − η v
/// ```
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var step = 0
    public var velocity: [Tensor] = []

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public var state: [Tensor] {
        get { velocity }
        set { velocity = newValue }
    }
    public var stateNames: [String] { velocity.indices.map { "velocity.\($0)" } }

    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor]) throws {
        try checkGradients(parameters, gradients)
        if velocity.count != parameters.count { velocity = parameters.map { .zeros(like: $0) } }
        let (lr, mu, wd, first) = (learningRate, momentum, weightDecay, step == 0)
        for i in parameters.indices {
            parameters[i].withUnsafeMutableBufferPointer { p in
                velocity[i].withUnsafeMutableBufferPointer { v in
                    gradients[i].withUnsafeBufferPointer { g in
                        let (p, v, g, n) = (p.baseAddress!, v.baseAddress!, g.baseAddress!, p.count)
                        // Branch-free loops (one per case) so that the compiler vectorises them, in slices across
                        // the workers (a step's update is memory-bound: 2M parameters for bigan-cifar's conv5).
                        Parallel.forEachSlice(of: n) { slice in
                            // PyTorch starts the buffer at the first gradient rather than decaying from zero.
                            if mu == 0 || first {
                                for j in slice {
                                    let d = g[j] + wd * p[j]
                                    v[j] = d
                                    p[j] -= lr * d
                                }
                            } else {
                                for j in slice {
                                    let d = g[j] + wd * p[j]
                                    let velocity = mu * v[j] + d
                                    v[j] = velocity
                                    p[j] -= lr * velocity
                                }
                            }
                        }
                    }
                }
            }
        }
        step += 1
    }
}
