import Foundation
import Tensor

/// Ready networks by name, for the CLI and config files.
public enum ModelZoo {
    /// Every model name with its default split (first θ2 layer) and default linearized layers.
    public static let models: [(name: String, split: String, linearize: [String])] = [
        (BiganCIFAR.name, "conv3", ["conv5"]),
        (BiganCIFAR.smallName, "conv3", ["conv5"]),
        (ResNet.cifarName, "layer3.0", ["layer3.1"]),
        (ResNet.Depth.resnet18.name, "layer4.0", ["layer4.1"]),
        (ResNet.Depth.resnet34.name, "layer4.0", ["layer4.2"]),
        (ResNet.Depth.resnet50.name, "layer4.0", ["layer4.2"]),
    ]

    public static var names: [String] { models.map(\.name) }

    /// The default split and linearized layers of a model.
    public static func defaults(for name: String) throws -> (split: String, linearize: [String]) {
        guard let entry = models.first(where: { $0.name == name }) else {
            throw GradFeatError.unknownModel(name, known: names)
        }
        return (entry.split, entry.linearize)
    }

    /// A freshly initialised network (PyTorch's default initialisation under `seed`).
    public static func make(
        _ name: String, classes: Int, inputChannels: Int = 3, inputSize: Int? = nil, seed: UInt64
    ) throws -> Network {
        switch name {
        case BiganCIFAR.name:
            return BiganCIFAR.make(classes: classes, inputChannels: inputChannels, inputSize: inputSize ?? 32, seed: seed)
        case BiganCIFAR.smallName:
            return BiganCIFAR.make(
                classes: classes, inputChannels: inputChannels, inputSize: inputSize ?? 32, widthDivisor: 2, seed: seed)
        case ResNet.cifarName:
            return ResNet.makeCIFAR(classes: classes, inputChannels: inputChannels, inputSize: inputSize ?? 32, seed: seed)
        default:
            guard let depth = ResNet.Depth.allCases.first(where: { $0.name == name }) else {
                throw GradFeatError.unknownModel(name, known: names)
            }
            return ResNet.make(depth, classes: classes, inputSize: inputSize ?? 224, seed: seed)
        }
    }

    /// `make(_:classes:inputChannels:inputSize:seed:)` with pre-trained `weights` loaded over the initialisation.
    /// Parameters named with a prefix in `keepInitial`, and the head `fc.` always (a new task has a new head
    /// unless the weights' one has its shape), may be missing from the weights and keep their initial values.
    public static func make(
        _ name: String, classes: Int, inputChannels: Int = 3, inputSize: Int? = nil, seed: UInt64, weights: URL?,
        keepInitial: [String] = []
    ) throws -> Network {
        let fresh = try make(name, classes: classes, inputChannels: inputChannels, inputSize: inputSize, seed: seed)
        guard let weights else { return fresh }
        guard FileManager.default.fileExists(atPath: weights.path) else {
            throw GradFeatError.invalidConfiguration("weights file \(weights.path): no such file")
        }
        return try WeightsFile.load(weights, into: fresh, keepInitial: keepInitial + ["fc."])
    }
}
