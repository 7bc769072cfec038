import Layers
import Tensor

/// Per-sample gradients with respect to θ2 (as stored) of a linearized top read through a head, for a whole batch
/// from one forward pass and one backward pass per cotangent (Mu, Liang, Li, ICLR 2020; TRAK, Park et al. 2023):
/// ```
/// jacobianRows:   G(xₙ) = ω̄ᵀ J(xₙ)                          c rows a sample (the gradient model's features)
/// lossGradients:  ∇_θ2 ℓ(F(xₙ), yₙ) = J(xₙ)ᵀ ω̄ᵀ ∂ℓ/∂F        one row a sample (torch.func.vmap(grad))
/// ```
/// Each weight-and-bias layer's per-sample gradient stays factored (`SampleGradientFactors`) until `map` turns it
/// into a row: exactly (|θ2| columns, as `ExplicitGradientFeatures` gives with one backward pass per sample and
/// class) or through a `KroneckerProjection` (K columns, no |θ2|-wide row formed).
public struct GradientRows: Sendable {
    /// The top at the point of the Jacobian (θ̄2 for the GradFeat models, the current θ2 for fine-tuning).
    public let top: LinearizedTop
    /// ω̄, or the fine-tuned network's head.
    public let head: any Head
    /// One factor per θ2 tensor: the gradients are taken with respect to the stored values (the NTK
    /// parametrization's `c`; all 1 otherwise).
    public let scales: [Float]
    public let map: GradientRowMap

    public init(top: LinearizedTop, head: any Head, scales: [Float]? = nil, map: GradientRowMap = .exact) throws {
        let tensorCount = top.parameters.count
        if let scales, scales.count != tensorCount {
            throw TensorError.invalidArgument("\(scales.count) parameter scales for θ2's \(tensorCount) tensors")
        }
        self.top = top
        self.head = head
        self.scales = scales ?? Array(repeating: 1, count: tensorCount)
        self.map = map
    }

    /// The width D of a row: |θ2|, or the projection's K.
    public var dimension: Int {
        switch map {
        case .exact: return top.parameters.reduce(0) { $0 + $1.count }
        case let .projected(projection): return projection.dimension
        }
    }

    /// Row n: `J(xₙ)ᵀ (∂h/∂f)ᵀ gₙ` for the logits' cotangents `g` [N, c], from `pass` (`top.apply` on the batch).
    public func rows(_ pass: LayerOutput, logitsCotangent g: Tensor) throws -> Tensor {
        let cotangent = try head.featureGradient(at: pass.value, logitsGradient: g)
        return try map.rows(try top.perSampleFactors(pass.record, cotangent: cotangent), scales: scales)
    }

    /// `G(x)` for the batch: [N, c, D], row (n, k) the gradient of logit k of the gradient term for sample n.
    public func jacobianRows(_ input: Tensor) throws -> Tensor {
        let pass = try top.apply(input, parameterTangent: nil)
        let (n, c, width) = (input.shape[0], head.classCount, dimension)
        var out = Tensor(shape: [n, c, width]) { _ in } // every (n, k) row is written below
        for k in 0..<c {
            var onehot = Tensor.zeros([n, c])
            for row in 0..<n { onehot.scalars[row * c + k] = 1 }
            let rowsForClass = try rows(pass, logitsCotangent: onehot)
            guard rowsForClass.shape == [n, width] else {
                throw TensorError.invalidArgument(
                    "the layers' per-sample gradients give rows \(rowsForClass.shape), θ2 needs [\(n), \(width)]: a "
                        + "PerSampleGradientLayer reports factors that do not match its parameters")
            }
            rowsForClass.withUnsafeBufferPointer { source in
                out.withUnsafeMutableBufferPointer { target in
                    for row in 0..<n {
                        (target.baseAddress! + (row * c + k) * width)
                            .update(from: source.baseAddress! + row * width, count: width)
                    }
                }
            }
        }
        return out
    }

    /// `∇_θ2 ℓ(F(xₙ), yₙ)` for the batch, [N, D]: the loss of each sample alone at the model's `logits` [N, c]
    /// (the caller's extractor computes them: the gradient model's or the full model's); nil: the top's own,
    /// `head(f(x))` (the network's loss, fine-tuning's gradient).
    public func lossGradients(_ input: Tensor, logits: Tensor? = nil, targets: Targets, loss: any Loss) throws -> Tensor
    {
        let pass = try top.apply(input, parameterTangent: nil)
        let logits = try logits ?? head.logits(pass.value)
        let n = input.shape[0]
        guard logits.rank == 2, logits.shape[0] == n, targets.count == n else {
            throw TensorError.invalidArgument(
                "per-sample loss gradients: \(n) inputs, logits \(logits.shape), \(targets.count) targets")
        }
        let perSample = try loss.perSampleGradients(logits: logits, targets: targets)
        return try rows(pass, logitsCotangent: perSample)
    }
}

extension KroneckerProjection {
    /// A projection for θ2 of `top`, its layers read from θ2's tensors: each weight (rank ≥ 2, [O, …]) with the bias
    /// [O] that follows it, as `Conv2D` and `Dense` order them.
    public init(dimension: Int, top: LinearizedTop, seed: UInt64, option: String = "--projection") throws {
        var layers: [(outputs: Int, columns: Int)] = []
        let tensors = top.parameters
        var index = 0
        while index < tensors.count {
            let weight = tensors[index]
            guard weight.rank >= 2 else {
                throw GradFeatError.invalidConfiguration(
                    "θ2 tensor \(top.parameterNames[index]) \(weight.shape) is not a weight [O, …]: projected "
                        + "gradients need weight-and-bias layers (convolutions, dense layers)")
            }
            let outputs = weight.shape[0]
            let hasBias =
                index + 1 < tensors.count && tensors[index + 1].rank == 1
                && tensors[index + 1].count == outputs
            layers.append((outputs, weight.count / outputs + (hasBias ? 1 : 0)))
            index += hasBias ? 2 : 1
        }
        try self.init(dimension: dimension, layers: layers, seed: seed, option: option)
    }
}
