import ArgumentParser
import Foundation
import GradFeat

/// Which base network, and its weights.
struct NetworkOptions: ParsableArguments {
    @Option(help: "Base network: bigan-cifar, bigan-small, resnet-cifar, resnet18, resnet34, resnet50.")
    var model = BiganCIFAR.name

    @Option(help: "Weights file (HDF5, PyTorch names; see docs/FORMATS.md). Without it the network is random.")
    var weights: String?

    @Option(help: "Parameter-name prefixes that may be missing from the weights or shaped differently, and keep their initial values (pretrain and train always allow fc.: a new task has a new head).")
    var keepInitial: [String] = []

    /// The network for `classes` classes and images of `channels`×`size`², with the weights loaded.
    func network(classes: Int, channels: Int, size: Int, seed: UInt64) throws -> Network {
        if let weights, !FileManager.default.fileExists(atPath: weights) {
            throw ValidationError("--weights \(weights): no such file")
        }
        return try ModelZoo.make(
            model, classes: classes, inputChannels: channels, inputSize: size, seed: seed,
            weights: weights.map { URL(fileURLWithPath: $0) }, keepInitial: keepInitial)
    }
}
