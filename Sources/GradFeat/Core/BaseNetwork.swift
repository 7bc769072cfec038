import Layers
import Tensor

/// A pre-trained network `F(x) = ωᵀ f_θ(x)`, split into a frozen bottom θ1 and a top θ2 whose layers may be
/// linearized. Layers are named as in PyTorch's state dict, so weights convert by name.
public protocol BaseNetwork: Sendable {
    /// The model's registry name ("bigan-cifar", "resnet18").
    var modelName: String { get }
    /// The backbone `f` in order, without the head; one child per splittable layer.
    var backbone: Sequential { get set }
    /// The head ω (named `fc` in the weights).
    var head: LinearHead { get set }
    /// The input of one sample, [C, H, W].
    var inputShape: Shape { get }
    /// What the network expects of pixels, e.g. "[0, 1]" or "ImageNet mean/std".
    var inputScaling: InputScaling { get }
}

/// How a model expects pixels scaled: `x = (p / 255 − mean[c]) / std[c]`.
public struct InputScaling: Sendable, Codable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    /// Pixels in [0, 1] (the paper's CIFAR encoder).
    public static let unit = InputScaling(mean: [0], std: [1])
    /// torchvision's ImageNet normalisation.
    public static let imageNet = InputScaling(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Converts uint8 images [N, C, H, W] to floats.
    public func apply(_ pixels: UnsafeBufferPointer<UInt8>, shape: Shape) -> Tensor {
        let (channels, plane) = (shape[1], shape[2] * shape[3])
        return Tensor(shape: shape) { out in
            for p in 0..<(out.count / plane) {
                let c = p % channels
                let scale = 1 / (255 * std[c % std.count]), shift = mean[c % mean.count] / std[c % std.count]
                let base = p * plane
                for i in 0..<plane { out[base + i] = Float(pixels[base + i]) * scale - shift }
            }
        }
    }
}

extension BaseNetwork {
    /// The width d of the features `f(x)` (the head's input).
    public var featureCount: Int { head.featureCount }
    public var classCount: Int { head.classCount }
    public var layerNames: [String] { backbone.names }

    /// The index of the first top layer for a split at `layer` (the name of the first θ2 layer).
    public func splitIndex(at layer: String) throws -> Int { try backbone.index(of: layer) }

    /// θ1: the layers before `layer`.
    public func bottom(splitAt layer: String) throws -> Sequential { backbone[0..<(try splitIndex(at: layer))] }

    /// θ2 and everything after it up to the features: the layers from `layer` on.
    public func top(splitAt layer: String) throws -> Sequential {
        backbone[(try splitIndex(at: layer))..<backbone.layers.count]
    }

    /// `z0 = f_θ1(x)`, the input of the top; computed once and cached.
    public func bottom(_ x: Tensor, splitAt layer: String) throws -> Tensor {
        try bottom(splitAt: layer).forward(x, mode: .evaluation)
    }

    /// The logits `ωᵀ f(x) + b` in evaluation mode.
    public func logits(_ x: Tensor) throws -> Tensor { try head.logits(try backbone.forward(x, mode: .evaluation)) }

    /// The same network with batch norm folded into the convolutions (evaluation statistics).
    public func foldingBatchNorm() throws -> Self {
        var copy = self
        copy.backbone = try backbone.foldingBatchNorm()
        return copy
    }

    /// The network with a frozen `Standardize` layer named `norm` appended to its backbone, its statistics measured
    /// on (up to 10,000 samples of) `data`, whose samples are the inputs of the layer `split`.
    public func standardizingFeatures(using data: some BatchSource, splitAt split: String) throws -> Self {
        let top = try self.top(splitAt: split).foldingBatchNorm()
        var features: [Float] = []
        let n = min(data.count, 10_000)
        for start in stride(from: 0, to: n, by: 500) {
            let f = try top.forward(try data.batch(Array(start..<min(start + 500, n))).inputs)
            features.append(contentsOf: f.scalars)
        }
        var copy = self
        copy.backbone.layers.append(
            NamedLayer(
                "norm", try Standardize(measuring: try Tensor(shape: [n, featureCount], scalars: features))))
        return copy
    }

    /// Every parameter and buffer by PyTorch name, head included (`fc.weight`, `fc.bias`).
    public var stateDict: [(name: String, value: Tensor)] {
        backbone.stateDict + head.layer.stateDict.map { ("fc.\($0.name)", $0.value) }
    }
}

/// A concrete base network: a named backbone and a head.
public struct Network: BaseNetwork {
    public var modelName: String
    public var backbone: Sequential
    public var head: LinearHead
    public var inputShape: Shape
    public var inputScaling: InputScaling

    public init(
        modelName: String, backbone: Sequential, head: LinearHead, inputShape: Shape, inputScaling: InputScaling
    ) {
        self.modelName = modelName
        self.backbone = backbone
        self.head = head
        self.inputShape = inputShape
        self.inputScaling = inputScaling
    }
}
