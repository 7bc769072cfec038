import Layers
import Tensor

/// How well a trained gradient term describes the network it linearizes, and which layer carries it
/// (Mu, Liang, Li, ICLR 2020; the linearization gap of Ortiz-Jiménez et al. 2021):
/// ```
/// F_net(t) = ω̄(f(x; θ̄2 + t·w2))                 the network moved along the trained w2
/// L(t)     = ω̄(f(x; θ̄2)) + t·g,  g = ∂ω̄/∂f · J(x) w2   its linear model
/// gap(t)   = ‖F_net(t) − L(t)‖ / ‖L(t) − F(θ̄)‖   over the data (a Taylor remainder: O(t) as t → 0)
/// share_ℓ  = ⟨g_ℓ, g⟩ / ‖g‖²,  g = Σ_ℓ g_ℓ        g_ℓ the term of linearized layer ℓ alone (the shares sum to 1)
/// ```
/// `top`, `head` and `tangent` are a gradient model's (`GradientFeatures`: its top at θ̄2, ω̄, and w2 in effective
/// values); the data are its inputs (the activations at the split).
public struct LinearizationDiagnostics: Sendable {
    public let top: LinearizedTop
    public let head: any Head
    /// w2, effective values, shaped like θ2.
    public let tangent: [Tensor]
    public var batchSize = 256

    public init(top: LinearizedTop, head: any Head, tangent: [Tensor]) throws {
        let shapes = top.parameters.map(\.shape)
        guard tangent.map(\.shape) == shapes else {
            throw GradFeatError.invalidConfiguration(
                "w2 has shapes \(tangent.map(\.shape)), θ2 \(shapes): the gradient model does not belong to this top")
        }
        self.top = top
        self.head = head
        self.tangent = tangent
    }

    /// The diagnostics of a trained gradient model.
    public init(_ model: GradientFeatures) throws {
        try self.init(top: model.top, head: model.omegaBar, tangent: model.tangent)
    }

    /// One point of the gap curve.
    public struct GapPoint: Sendable, Codable, Equatable {
        public var t: Double
        /// `‖F_net(t) − L(t)‖ / ‖L(t) − F(θ̄)‖` over all samples and classes.
        public var relativeGap: Double
        /// The headline metric (accuracy, or mAP for multi-label data) of the moved network and of the linear model.
        public var networkMetric: Double
        public var linearMetric: Double
    }

    /// The gap curve over `grid` (values of t), streamed over `data` in batches.
    public func gap(on data: some BatchSource, grid: [Double]) throws -> [GapPoint] {
        var difference = [Double](repeating: 0, count: grid.count), step = difference
        var networkLogits = [[Float]](repeating: [], count: grid.count), linearLogits = networkLogits
        var targets: [Targets] = []
        let movedTops = try grid.map { t -> LinearizedTop in
            var moved = top
            moved.parameters = try zip(top.parameters, tangent).map { theta, w in
                var sum = theta
                try sum.add(w, scaledBy: Float(t))
                return sum
            }
            return moved
        }
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let batch = try data.batch(Array(start..<min(start + batchSize, data.count)))
            targets.append(batch.targets)
            let pass = try top.apply(batch.inputs, parameterTangent: tangent)
            let base = try head.logits(pass.value)
            let g = try head.jvp(at: pass.value, tangent: pass.tangent ?? .zeros(like: pass.value))
            let termNorm = g.scalars.reduce(0) { $0 + Double($1) * Double($1) } // ‖L(t) − F(θ̄)‖² = t²‖g‖²
            for (index, t) in grid.enumerated() {
                let moved = try head.logits(try movedTops[index].apply(batch.inputs, parameterTangent: nil).value)
                var linear = base
                try linear.add(g, scaledBy: Float(t))
                for i in 0..<moved.count {
                    let d = Double(moved.scalars[i]) - Double(linear.scalars[i])
                    difference[index] += d * d
                }
                step[index] += t * t * termNorm
                networkLogits[index] += moved.scalars
                linearLogits[index] += linear.scalars
            }
        }
        let all = try Targets.concatenating(targets)
        let classes = head.classCount
        return try grid.indices.map { index in
            let shape: Shape = [data.count, classes]
            return GapPoint(
                t: grid[index], relativeGap: (difference[index] / max(step[index], .leastNormalMagnitude)).squareRoot(),
                networkMetric: Metrics(logits: try Tensor(shape: shape, scalars: networkLogits[index]), targets: all)
                    .headline,
                linearMetric: Metrics(logits: try Tensor(shape: shape, scalars: linearLogits[index]), targets: all)
                    .headline)
        }
    }

    /// One linearized layer's part of the gradient term.
    public struct LayerShare: Sendable, Codable, Equatable {
        public var layer: String
        /// `⟨g_ℓ, g⟩ / ‖g‖²`.
        public var share: Double
        /// `‖g_ℓ‖ / ‖g‖`.
        public var relativeNorm: Double
    }

    /// Each linearized layer's share of the gradient term over `data`: one tangent pass a layer and batch.
    public func layerShares(on data: some BatchSource) throws -> [LayerShare] {
        let names = top.linearizedNames
        let counts = top.layers.layers.indices.filter { top.linearized[$0] }
            .map { top.layers.layers[$0].layer.parameters.count }
        var inner = [Double](repeating: 0, count: names.count), norms = inner
        var total = 0.0
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let inputs = try data.batch(Array(start..<min(start + batchSize, data.count))).inputs
            let g = try term(inputs, tangent)
            total += g.scalars.reduce(0) { $0 + Double($1) * Double($1) }
            var offset = 0
            for (index, count) in counts.enumerated() {
                // w2 with every other layer's tensors at zero.
                let alone = tangent.enumerated().map { i, w in
                    (offset..<offset + count).contains(i) ? w : .zeros(like: w)
                }
                offset += count
                let gl = try term(inputs, alone)
                inner[index] += zip(gl.scalars, g.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                norms[index] += gl.scalars.reduce(0) { $0 + Double($1) * Double($1) }
            }
        }
        let denominator = max(total, .leastNormalMagnitude)
        return names.indices.map {
            LayerShare(
                layer: names[$0], share: inner[$0] / denominator, relativeNorm: (norms[$0] / denominator).squareRoot())
        }
    }

    /// The gradient term `∂ω̄/∂f · J(x) w` for the batch.
    private func term(_ inputs: Tensor, _ w: [Tensor]) throws -> Tensor {
        let pass = try top.apply(inputs, parameterTangent: w)
        return try head.jvp(at: pass.value, tangent: pass.tangent ?? .zeros(like: pass.value))
    }
}
