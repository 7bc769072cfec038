import ArgumentParser
import Foundation
import GradFeat

/// Which base network, and its weights.
struct NetworkOptions: ParsableArguments {
    @Option(
        help:
            "Base network: \(ModelZoo.names.joined(separator: ", ")) or a registered one (default: bigan-cifar, or the command's).",
        completion: RegistryCompletion.models)
    var model: String?

    @Option(help: "Weights file (HDF5, PyTorch names; see docs/FORMATS.md). Without it the network is random.")
    var weights: String?

    @Option(
        help:
            "Parameter-name prefixes that may be missing from the weights or shaped differently, and keep their initial values (pretrain and train always allow fc.: a new task has a new head)."
    )
    var keepInitial: [String] = []

    /// The model's name: `--model`, else the default.
    var modelName: String { model ?? BiganCIFAR.name }

    func apply(to layer: inout ConfigLayer) {
        layer.setIfGiven("model", model.map(ConfigValue.string), "--model")
        layer.setIfGiven("weights", weights.map(ConfigValue.string), "--weights")
        if !keepInitial.isEmpty {
            layer.set("keep_initial", .array(keepInitial.map(ConfigValue.string)), origin: "option --keep-initial")
        }
    }

    /// The network for `classes` classes and images of `channels`×`size`², with the weights loaded.
    func network(classes: Int, channels: Int, size: Int, seed: UInt64) throws -> Network {
        if let weights, !FileManager.default.fileExists(atPath: weights) {
            throw ValidationError("--weights \(weights): no such file")
        }
        return try ModelZoo.make(
            modelName, classes: classes, inputChannels: channels, inputSize: size, seed: seed,
            weights: weights.map { URL(fileURLWithPath: $0) }, keepInitial: keepInitial)
    }
}
