import Foundation
import Tensor

/// Base networks by name (`Plugins.shared.models`), built and loaded with their weights.
public enum ModelZoo {
    /// The registered model names.
    public static var names: [String] { Plugins.shared.models.names }

    /// What `name` is: input, scaling, default layers.
    public static func metadata(for name: String) throws -> ModelPlugin { try Plugins.shared.models.entry(name) }

    /// The default split and linearized layers of a model.
    public static func defaults(for name: String) throws -> (split: String, linearize: [String]) {
        let entry = try metadata(for: name)
        return (entry.defaultSplit, entry.defaultLinearize)
    }

    /// A freshly initialised network (PyTorch's default initialisation under `seed`).
    public static func make(
        _ name: String, classes: Int, inputChannels: Int = 3, inputSize: Int? = nil, seed: UInt64
    ) throws -> Network {
        try metadata(for: name).make(
            ModelRequest(classes: classes, inputChannels: inputChannels, inputSize: inputSize, seed: seed))
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
