import Layers
import Tensor

/// The top of a network with a chosen set of linearized layers: the machinery every gradient-based extractor shares.
///
/// One forward pass propagates the primal `z` and, beside it, the tangent `ż` (METHOD.md):
/// ```
/// ȧ = W̃ z + b̃ + W ż        (linearized layer, tangent weights (W̃, b̃) = slices of w2)
/// ȧ = W ż                   (other layers: the same linear map, or nothing while ż = 0)
/// ż' = σ'(a) ⊙ ȧ            (nonlinearities; pooling and residual sums map ż as they map z)
/// ```
/// giving `f` and `ḟ = J(x) w2`. The map `w2 ↦ ḟ` is linear and its adjoint is backpropagation at the primal
/// point, run only down to the first linearized layer: no per-sample gradient is ever formed.
public struct LinearizedTop: Sendable {
    /// The layers from the input of the cached activations to the features `f` (batch norm folded).
    public var layers: Sequential
    /// Whether each child of `layers` is linearized.
    public let linearized: [Bool]

    /// - Parameters:
    ///   - layers: the top of the network (batch norm is folded here, so the linearized part holds only convs,
    ///     dense layers, pools and nonlinearities).
    ///   - names: names of children of `layers` whose parameters form θ2; at least one.
    public init(_ layers: Sequential, linearize names: [String]) throws {
        let folded = try layers.foldingBatchNorm()
        guard !names.isEmpty else {
            throw GradFeatError.invalidConfiguration(
                "no layer to linearize: name at least one (e.g. --linearize conv5)")
        }
        for name in names where !folded.names.contains(name) {
            // Usually a layer of the network below the split (frozen in θ1, so it cannot be linearized).
            throw GradFeatError.invalidConfiguration(
                "layer '\(name)' is not above the split, so it cannot be linearized: the layers from the split up "
                    + "are \(folded.names.joined(separator: ", ")); choose --linearize among them, or move --split "
                    + "down to '\(name)' or below")
        }
        let flags = folded.names.map { names.contains($0) }
        for (flag, child) in zip(flags, folded.layers) where flag && child.layer.parameters.isEmpty {
            throw GradFeatError.invalidConfiguration(
                "layer '\(child.name)' has no parameters to linearize; choose a convolution, dense layer or block")
        }
        self.layers = folded
        self.linearized = flags
    }

    /// The index of the lowest linearized child: backpropagation stops there.
    public var firstLinearized: Int { linearized.firstIndex(of: true)! }

    public var linearizedNames: [String] { zip(layers.names, linearized).filter(\.1).map(\.0) }

    /// θ2: the current (effective) parameters of the linearized children, in order.
    public var parameters: [Tensor] {
        get { zip(layers.layers, linearized).filter(\.1).flatMap { $0.0.layer.parameters } }
        set {
            let indices = layers.layers.indices.filter { linearized[$0] }
            let chunks = newValue.chunked(into: indices.map { layers.layers[$0].layer.parameters.count })
            for (i, chunk) in zip(indices, chunks) { layers.layers[i].layer.parameters = chunk }
        }
    }

    /// Names of θ2's tensors (`conv5.weight`, `layer4.1.conv1.bias`).
    public var parameterNames: [String] {
        zip(layers.layers, linearized).filter(\.1).flatMap { child, _ in
            child.layer.parameterNames.map { "\(child.name).\($0)" }
        }
    }

    /// Zero tensors shaped like θ2 (the gradient model's `w2` at initialisation).
    public var zeroTangent: [Tensor] { parameters.map { .zeros(like: $0) } }

    /// `f` and, when `parameterTangent` is given (shaped like θ2), `ḟ = J(x) · parameterTangent`.
    public func apply(_ input: Tensor, parameterTangent: [Tensor]?, mode: Mode = .evaluation) throws -> LayerOutput {
        try apply(input, parameterTangent: parameterTangent, scales: nil, mode: mode)
    }

    /// `f` and `ḟ = J(x) · (scales ⊙ parameterTangent)`: the tangent as stored with one factor per tensor (the NTK
    /// parametrization), applied inside the convolutions' and dense layers' products rather than by scaled copies.
    public func apply(
        _ input: Tensor, parameterTangent: [Tensor]?, scales: [Float]?, mode: Mode = .evaluation
    ) throws -> LayerOutput {
        var perChild: [[Tensor]?] = Array(repeating: nil, count: layers.layers.count)
        var perChildScales: [[Float]?] = Array(repeating: nil, count: layers.layers.count)
        if let parameterTangent {
            var offset = 0
            for i in layers.layers.indices where linearized[i] {
                let count = layers.layers[i].layer.parameters.count
                guard offset + count <= parameterTangent.count else { break }
                perChild[i] = Array(parameterTangent[offset..<offset + count])
                perChildScales[i] = scales.map { Array($0[offset..<offset + count]) }
                offset += count
            }
            guard offset == parameterTangent.count, scales == nil || scales!.count == offset else {
                throw TensorError.invalidArgument(
                    "parameter tangent has \(parameterTangent.count) tensors, θ2 has \(parameters.count)")
            }
        }
        var (value, tangent): (Tensor, Tensor?) = (input, nil)
        var records: [Record] = []
        records.reserveCapacity(layers.layers.count)
        for (i, child) in layers.layers.enumerated() {
            let output = try child.layer.apply(
                value, tangent: tangent, parameterTangent: perChild[i], scalingTangentBy: perChildScales[i], mode: mode)
            (value, tangent) = (output.value, output.tangent)
            records.append(output.record)
        }
        return LayerOutput(value: value, tangent: tangent, record: Record(input: input, children: records))
    }

    /// `Jᵀ c`: the gradient with respect to θ2 of `⟨c, f⟩` (fine-tuning) — equally of `⟨c, ḟ⟩` (GradFeat, since
    /// `ḟ = J w2`) — from the record of `apply`; with `scales`, each tensor's gradient multiplied by its factor
    /// (the gradient with respect to the stored values), inside the products.
    public func parameterGradients(
        _ record: Record, cotangent: Tensor, scales: [Float]? = nil, mode: Mode = .evaluation
    ) throws -> [Tensor] {
        var perChild: [[Tensor]] = Array(repeating: [], count: layers.layers.count)
        var offsets: [Int] = Array(repeating: 0, count: layers.layers.count)
        var offset = 0
        for i in layers.layers.indices where linearized[i] {
            offsets[i] = offset
            offset += layers.layers[i].layer.parameters.count
        }
        try backpropagate(record, cotangent: cotangent, mode: mode) { i, gradient, needInput in
            let layer = layers.layers[i].layer
            let childScales = scales.map { Array($0[offsets[i]..<offsets[i] + layer.parameters.count]) }
            let result = try layer.vjp(
                record.children[i], outputGradient: gradient, needInputGradient: needInput,
                scalingGradientsBy: childScales, mode: mode)
            perChild[i] = result.parameters
            return result.input
        }
        return perChild.flatMap { $0 }
    }

    /// Backpropagates `cotangent` from the top down to the lowest linearized child: `linearizedChild(i, ∂L/∂output,
    /// needInput)` handles each linearized child and returns its input gradient when `needInput`; the other children
    /// run their ordinary `vjp`.
    func backpropagate(
        _ record: Record, cotangent: Tensor, mode: Mode,
        linearizedChild: (_ index: Int, _ outputGradient: Tensor, _ needInput: Bool) throws -> Tensor?
    ) throws {
        var gradient = cotangent
        let first = firstLinearized
        for i in stride(from: layers.layers.count - 1, through: first, by: -1) {
            let needInput = i > first
            let input: Tensor?
            let layer = layers.layers[i].layer
            if linearized[i] {
                input = try linearizedChild(i, gradient, needInput)
            } else {
                input = try layer.vjp(record.children[i], outputGradient: gradient, needInputGradient: true, mode: mode)
                    .input
            }
            if needInput { gradient = try layer.requireInputGradient(input) }
        }
    }
}

extension LinearizedTop {
    /// Whether every linearized layer hands out per-sample gradients (`PerSampleGradientLayer`), so that
    /// `perSampleFactors` and `GradientRows` run on this top.
    public var supportsPerSampleGradients: Bool {
        zip(layers.layers, linearized).allSatisfy { child, flag in !flag || child.layer.supportsPerSampleGradients }
    }

    /// The factors of every sample's `J(x_n)ᵀ c_n` (the gradient with respect to θ2 of `⟨c_n, f(x_n)⟩`), one per
    /// weight-and-bias layer of θ2 in θ2's order, from the record of `apply`: one backward pass for the batch.
    public func perSampleFactors(_ record: Record, cotangent: Tensor) throws -> [SampleGradientFactors] {
        var perChild: [[SampleGradientFactors]] = Array(repeating: [], count: layers.layers.count)
        try backpropagate(record, cotangent: cotangent, mode: .evaluation) { i, gradient, needInput in
            let result = try layers.layers[i].layer.perSampleGradients(
                record.children[i], outputGradient: gradient, needInputGradient: needInput)
            perChild[i] = result.factors
            return result.input
        }
        return perChild.flatMap { $0 }
    }
}
