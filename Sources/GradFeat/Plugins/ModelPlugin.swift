import Tensor

/// What a model is built for: the task's classes, the images' channels and side, the seed of its initialisation.
public struct ModelRequest: Sendable {
    public var classes: Int
    public var inputChannels: Int
    /// The images' side; nil: the model's own (`ModelPlugin.inputShape`).
    public var inputSize: Int?
    public var seed: UInt64

    public init(classes: Int, inputChannels: Int = 3, inputSize: Int? = nil, seed: UInt64) {
        self.classes = classes
        self.inputChannels = inputChannels
        self.inputSize = inputSize
        self.seed = seed
    }
}

/// A base network by name, with what the pipeline needs to know before building it: its input, pixel scaling and
/// default layers, so that no command builds a network only to ask it.
public struct ModelPlugin: RegistryEntry {
    public typealias Factory = @Sendable (ModelRequest) throws -> Network

    public var name: String
    public var summary: String
    /// The input of one sample it is designed for, [C, H, W]; smaller images are zero-padded up to it (28 → 32).
    public var inputShape: Shape
    public var inputScaling: InputScaling
    /// The first θ2 layer and the linearized layers when a run names none.
    public var defaultSplit: String
    public var defaultLinearize: [String]
    public var registeredAt: String = ""
    public var make: Factory

    public init(
        name: String, summary: String, inputShape: Shape, inputScaling: InputScaling, defaultSplit: String,
        defaultLinearize: [String], make: @escaping Factory
    ) {
        self.name = name
        self.summary = summary
        self.inputShape = inputShape
        self.inputScaling = inputScaling
        self.defaultSplit = defaultSplit
        self.defaultLinearize = defaultLinearize
        self.make = make
    }
}

/// Base networks by name.
public typealias ModelRegistry = Registry<ModelPlugin>

extension Registry where Entry == ModelPlugin {
    /// GradFeat's own networks.
    func registerBuiltIns() throws {
        try register(
            ModelPlugin(
                name: BiganCIFAR.name, summary: "the paper's BiGAN/ALI CIFAR encoder (5 convolutions)",
                inputShape: [3, 32, 32], inputScaling: .unit, defaultSplit: "conv3", defaultLinearize: ["conv5"]
            ) { r in
                BiganCIFAR.make(
                    classes: r.classes, inputChannels: r.inputChannels, inputSize: r.inputSize ?? 32, seed: r.seed)
            })
        try register(
            ModelPlugin(
                name: BiganCIFAR.smallName, summary: "the BiGAN CIFAR encoder at half width (the demo's)",
                inputShape: [3, 32, 32], inputScaling: .unit, defaultSplit: "conv3", defaultLinearize: ["conv5"]
            ) { r in
                BiganCIFAR.make(
                    classes: r.classes, inputChannels: r.inputChannels, inputSize: r.inputSize ?? 32,
                    widthDivisor: 2, seed: r.seed)
            })
        try register(
            ModelPlugin(
                name: ResNet.cifarName, summary: "a small CIFAR ResNet (3 stages of BasicBlocks)",
                inputShape: [3, 32, 32], inputScaling: .unit, defaultSplit: "layer3.0", defaultLinearize: ["layer3.1"]
            ) { r in
                ResNet.makeCIFAR(
                    classes: r.classes, inputChannels: r.inputChannels, inputSize: r.inputSize ?? 32, seed: r.seed)
            })
        for (depth, linearize) in [
            (ResNet.Depth.resnet18, "layer4.1"), (.resnet34, "layer4.2"), (.resnet50, "layer4.2"),
        ] {
            try register(
                ModelPlugin(
                    name: depth.name, summary: "torchvision's \(depth.name) (ImageNet layout and normalisation)",
                    inputShape: [3, 224, 224], inputScaling: .imageNet, defaultSplit: "layer4.0",
                    defaultLinearize: [linearize]
                ) { r in
                    ResNet.make(depth, classes: r.classes, inputSize: r.inputSize ?? 224, seed: r.seed)
                })
        }
    }
}
