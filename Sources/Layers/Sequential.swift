import Tensor

/// A layer with a name, as it appears in PyTorch's state dict ("conv1", "layer4.1", "0").
public struct NamedLayer: Sendable {
    public var name: String
    public var layer: any Layer

    public init(_ name: String, _ layer: any Layer) {
        self.name = name
        self.layer = layer
    }
}

/// Layers applied in order; parameter names are prefixed with each child's name (`conv1.weight`).
public struct Sequential: ScaledParameterLayer {
    public var layers: [NamedLayer]

    public init(_ layers: [NamedLayer]) { self.layers = layers }

    /// Children named "0", "1", … as PyTorch's `nn.Sequential` names them.
    public init(numbered layers: [any Layer]) {
        self.layers = layers.enumerated().map { NamedLayer(String($0.offset), $0.element) }
    }

    public var names: [String] { layers.map(\.name) }

    /// The index of the child named `name`; throws with the names there are.
    public func index(of name: String) throws -> Int {
        guard let index = layers.firstIndex(where: { $0.name == name }) else {
            throw TensorError.invalidArgument("no layer named '\(name)'; layers are \(names.joined(separator: ", "))")
        }
        return index
    }

    /// The children in `range` as a network of their own.
    public subscript(range: Range<Int>) -> Sequential { Sequential(Array(layers[range])) }

    public var parameters: [Tensor] {
        get { layers.flatMap { $0.layer.parameters } }
        set {
            for (i, chunk) in newValue.chunked(into: layers.map { $0.layer.parameters.count }).enumerated() {
                layers[i].layer.parameters = chunk
            }
        }
    }
    public var parameterNames: [String] {
        layers.flatMap { child in child.layer.parameterNames.map { "\(child.name).\($0)" } }
    }
    public var buffers: [Tensor] {
        get { layers.flatMap { $0.layer.buffers } }
        set {
            for (i, chunk) in newValue.chunked(into: layers.map { $0.layer.buffers.count }).enumerated() {
                layers[i].layer.buffers = chunk
            }
        }
    }
    public var bufferNames: [String] {
        layers.flatMap { child in child.layer.bufferNames.map { "\(child.name).\($0)" } }
    }

    public func outputShape(for input: Shape) throws -> Shape {
        try layers.reduce(input) { shape, child in try child.layer.outputShape(for: shape) }
    }

    /// Splits a whole-network parameter tangent into one per child.
    func splitPerChild(_ values: [Tensor]?) throws -> [[Tensor]?] {
        guard let values else { return Array(repeating: nil, count: layers.count) }
        guard values.count == parameters.count else {
            throw TensorError.invalidArgument(
                "Sequential: parameter tangent has \(values.count) tensors, expected \(parameters.count)")
        }
        return values.chunked(into: layers.map { $0.layer.parameters.count })
    }

    /// Splits one factor per parameter into one list per child.
    func splitPerChild(scales: [Float]) throws -> [[Float]] {
        try checkScaleCount(scales)
        return scales.chunked(into: layers.map { $0.layer.parameters.count })
    }

    public func apply(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, tangentScales: [Float], mode: Mode
    ) throws -> LayerOutput {
        let childTangents = try splitPerChild(parameterTangent)
        let childScales = try splitPerChild(scales: tangentScales)
        var (value, currentTangent) = (input, tangent)
        var records: [Record] = []
        records.reserveCapacity(layers.count)
        for i in layers.indices {
            let output = try layers[i].layer.apply(
                value, tangent: currentTangent, parameterTangent: childTangents[i], scalingTangentBy: childScales[i],
                mode: mode)
            (value, currentTangent) = (output.value, output.tangent)
            records.append(output.record)
        }
        return LayerOutput(value: value, tangent: currentTangent, record: Record(input: input, children: records))
    }

    public func vjp(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool, gradientScales: [Float], mode: Mode
    ) throws -> Gradients {
        let childScales = try splitPerChild(scales: gradientScales)
        var gradient = outputGradient
        var perChild: [[Tensor]] = Array(repeating: [], count: layers.count)
        for i in layers.indices.reversed() {
            let needInput = i > 0 || needInputGradient
            let result = try layers[i].layer.vjp(
                record.children[i], outputGradient: gradient, needInputGradient: needInput,
                scalingGradientsBy: childScales[i], mode: mode)
            perChild[i] = result.parameters
            if needInput { gradient = result.input! }
        }
        return Gradients(input: needInputGradient ? gradient : nil, parameters: perChild.flatMap { $0 })
    }

    public func forward(_ input: Tensor, mode: Mode) throws -> Tensor {
        var value = input
        var i = layers.startIndex
        while i < layers.endIndex {
            if let conv = layers[i].layer as? Conv2D, i + 1 < layers.endIndex,
                let activation = layers[i + 1].layer as? any PiecewiseLinearActivation
            {
                value = try conv.forward(value, then: activation)
                i += 2
            } else {
                value = try layers[i].layer.forward(value, mode: mode)
                i += 1
            }
        }
        return value
    }

    public mutating func updateStatistics(from record: Record) {
        for i in layers.indices { layers[i].layer.updateStatistics(from: record.children[i]) }
    }

    /// The same network with every batch norm that follows a convolution folded into it (evaluation statistics),
    /// recursively through residual blocks, so the linearized part holds only convs, dense layers, pools and
    /// nonlinearities (METHOD.md).
    public func foldingBatchNorm() throws -> Sequential {
        var result: [NamedLayer] = []
        for child in layers {
            if let bn = child.layer as? BatchNorm2D, let last = result.last, let conv = last.layer as? Conv2D {
                result[result.count - 1].layer = try bn.folded(into: conv)
            } else if let nested = child.layer as? Sequential {
                result.append(NamedLayer(child.name, try nested.foldingBatchNorm()))
            } else if let block = child.layer as? Residual {
                result.append(NamedLayer(child.name, try block.foldingBatchNorm()))
            } else {
                result.append(child)
            }
        }
        return Sequential(result)
    }
}
