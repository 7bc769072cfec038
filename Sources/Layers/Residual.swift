import Tensor

/// A residual block `y = relu(body(x) + shortcut(x))` in torchvision's layout: the body's children are named
/// `conv1`, `bn1`, …, the projection shortcut `downsample.0` (conv) and `downsample.1` (batch norm).
public struct Residual: ScaledParameterLayer {
    public var body: Sequential
    /// The projection; nil is the identity.
    public var shortcut: Sequential?

    public init(body: Sequential, shortcut: Sequential?) {
        self.body = body
        self.shortcut = shortcut
    }

    public var parameters: [Tensor] {
        get { body.parameters + (shortcut?.parameters ?? []) }
        set {
            let count = body.parameters.count
            body.parameters = Array(newValue[0..<count])
            shortcut?.parameters = Array(newValue[count...])
        }
    }
    public var parameterNames: [String] {
        body.parameterNames + (shortcut?.parameterNames.map { "downsample.\($0)" } ?? [])
    }
    public var buffers: [Tensor] {
        get { body.buffers + (shortcut?.buffers ?? []) }
        set {
            let count = body.buffers.count
            body.buffers = Array(newValue[0..<count])
            shortcut?.buffers = Array(newValue[count...])
        }
    }
    public var bufferNames: [String] { body.bufferNames + (shortcut?.bufferNames.map { "downsample.\($0)" } ?? []) }

    public func outputShape(for input: Shape) throws -> Shape {
        let main = try body.outputShape(for: input)
        let side = try shortcut?.outputShape(for: input) ?? input
        guard main == side else {
            throw TensorError.shapeMismatch(operation: "Residual: body and shortcut outputs", expected: main, got: side)
        }
        return main
    }

    public func apply(
        _ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, tangentScales: [Float], mode: Mode
    ) throws -> LayerOutput {
        _ = try outputShape(for: input.shape)
        let bodyCount = body.parameters.count
        let bodyTangent = parameterTangent.map { Array($0[0..<bodyCount]) }
        let shortcutTangent = parameterTangent.map { Array($0[bodyCount...]) }
        let (bodyScales, shortcutScales) = try split(scales: tangentScales)
        let main = try body.apply(
            input, tangent: tangent, parameterTangent: bodyTangent, tangentScales: bodyScales, mode: mode)
        var sum = main.value, sumTangent = main.tangent
        var records = [main.record]
        if let shortcut {
            let side = try shortcut.apply(
                input, tangent: tangent, parameterTangent: shortcutTangent, tangentScales: shortcutScales, mode: mode)
            try sum.add(side.value)
            sumTangent = try Residual.add(sumTangent, side.tangent)
            records.append(side.record)
        } else {
            try sum.add(input)
            sumTangent = try Residual.add(sumTangent, tangent)
        }
        let out = try ReLU().apply(sum, tangent: sumTangent, parameterTangent: nil, mode: mode)
        records.append(out.record)
        return LayerOutput(value: out.value, tangent: out.tangent, record: Record(input: input, children: records))
    }

    /// One factor per parameter split into the body's and the shortcut's.
    private func split(scales: [Float]) throws -> ([Float], [Float]) {
        try checkScaleCount(scales)
        let bodyCount = body.parameters.count
        return (Array(scales[0..<bodyCount]), Array(scales[bodyCount...]))
    }

    /// The sum of two optional tangents (nil is zero).
    private static func add(_ a: Tensor?, _ b: Tensor?) throws -> Tensor? {
        guard var a else { return b }
        if let b { try a.add(b) }
        return a
    }

    public func vjp(
        _ record: Record, outputGradient: Tensor, needInputGradient: Bool, gradientScales: [Float], mode: Mode
    ) throws -> Gradients {
        let (bodyScales, shortcutScales) = try split(scales: gradientScales)
        let g = try ReLU().vjp(
            record.children.last!, outputGradient: outputGradient, needInputGradient: true, mode: mode
        )
        .input!
        let main = try body.vjp(
            record.children[0], outputGradient: g, needInputGradient: needInputGradient,
            gradientScales: bodyScales, mode: mode)
        var parameters = main.parameters
        var dx = main.input
        if let shortcut {
            let side = try shortcut.vjp(
                record.children[1], outputGradient: g, needInputGradient: needInputGradient,
                gradientScales: shortcutScales, mode: mode)
            parameters += side.parameters
            if let sideInput = side.input { try dx?.add(sideInput) }
        } else if needInputGradient {
            try dx?.add(g)
        }
        return Gradients(input: dx, parameters: parameters)
    }

    public func forward(_ input: Tensor, mode: Mode) throws -> Tensor {
        _ = try outputShape(for: input.shape)
        var sum = try body.forward(input, mode: mode)
        try sum.add(try shortcut?.forward(input, mode: mode) ?? input)
        return try ReLU().forward(sum, mode: mode)
    }

    public mutating func updateStatistics(from record: Record) {
        body.updateStatistics(from: record.children[0])
        if shortcut != nil { shortcut!.updateStatistics(from: record.children[1]) }
    }

    public func foldingBatchNorm() throws -> Residual {
        Residual(body: try body.foldingBatchNorm(), shortcut: try shortcut?.foldingBatchNorm())
    }

    /// torchvision's `BasicBlock`: two 3×3 convolutions with batch norm (expansion 1).
    public static func basicBlock(inChannels: Int, outChannels: Int, stride: Int = 1, rng: inout SeededRandom)
        -> Residual
    {
        let body = Sequential([
            NamedLayer(
                "conv1", Conv2D(inChannels, outChannels, kernel: 3, stride: stride, padding: 1, bias: false, rng: &rng)),
            NamedLayer("bn1", BatchNorm2D(channels: outChannels)),
            NamedLayer("relu", ReLU()),
            NamedLayer("conv2", Conv2D(outChannels, outChannels, kernel: 3, padding: 1, bias: false, rng: &rng)),
            NamedLayer("bn2", BatchNorm2D(channels: outChannels)),
        ])
        let needsProjection = stride != 1 || inChannels != outChannels
        return Residual(body: body, shortcut: needsProjection ? projection(inChannels, outChannels, stride, &rng) : nil)
    }

    /// torchvision's `Bottleneck` (v1.5: the stride sits on the 3×3 convolution; expansion 4).
    public static func bottleneck(inChannels: Int, planes: Int, stride: Int = 1, rng: inout SeededRandom) -> Residual {
        let out = planes * 4
        let body = Sequential([
            NamedLayer("conv1", Conv2D(inChannels, planes, kernel: 1, bias: false, rng: &rng)),
            NamedLayer("bn1", BatchNorm2D(channels: planes)),
            NamedLayer("relu1", ReLU()),
            NamedLayer("conv2", Conv2D(planes, planes, kernel: 3, stride: stride, padding: 1, bias: false, rng: &rng)),
            NamedLayer("bn2", BatchNorm2D(channels: planes)),
            NamedLayer("relu2", ReLU()),
            NamedLayer("conv3", Conv2D(planes, out, kernel: 1, bias: false, rng: &rng)),
            NamedLayer("bn3", BatchNorm2D(channels: out)),
        ])
        let needsProjection = stride != 1 || inChannels != out
        return Residual(body: body, shortcut: needsProjection ? projection(inChannels, out, stride, &rng) : nil)
    }

    private static func projection(_ inChannels: Int, _ outChannels: Int, _ stride: Int, _ rng: inout SeededRandom)
        -> Sequential
    {
        Sequential(numbered: [
            Conv2D(inChannels, outChannels, kernel: 1, stride: stride, bias: false, rng: &rng),
            BatchNorm2D(channels: outChannels),
        ])
    }
}
