import ArgumentParser
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor

/// Logits (and GradFeat's two terms) for the images of a data-set cache, written to HDF5 so that they can be
/// compared with another framework.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Write a network's (or a trained extractor's) logits for the images of a data-set cache.",
        discussion: """
            The images (/images, uint8 [N, C, H, W]) are scaled as the model expects (bigan-cifar: p/255; \
            ResNets: ImageNet mean/std) and, like in training, padded with zeros to the model's input size \
            (28×28 digits to bigan-cifar's 32×32: small even margins only); --no-pad feeds them unchanged (ResNets \
            take any size ≥ 32). Output (format gradfeat-predictions, version 1): /logits float32 [N, c]; \
            for an extractor with both terms (gradfeat) also /activation_term and /gradient_term [N, c].

            With --checkpoint the extractor is rebuilt as `train` built it: its split, linearized layers and \
            parametrization come from config.json beside the checkpoint (options override), ω̄ from \
            activation.h5 beside it (or --omega), and the feature standardisation from activations-train.h5 \
            beside it (or --standardize-from; --no-standardize if training used --no-standardize).
            """)

    @OptionGroup var network: NetworkOptions

    @Option(help: "Extractor of the checkpoint (default: the checkpoint's own); without --checkpoint, the network alone.")
    var extractor: String?

    @Option(help: "A checkpoint written by `gradfeat train` (OUTPUT/<extractor>.h5).")
    var checkpoint: String?

    @Option(help: "Linearized layers, comma-separated (default: the run's config.json, else the model's).")
    var linearize: String?

    @Option(help: "The first θ2 layer (default: the run's config.json, else the first linearized layer).")
    var split: String?

    @Option(help: "Parametrization the extractor was trained in: ntk or standard (default: the run's, else ntk).")
    var parametrization: String?

    @Option(help: "Checkpoint of the activation model whose head is ω̄ (default: activation.h5 beside --checkpoint).")
    var omega: String?

    @Option(help: "Activation cache of the training images, to standardise features as training did (default: activations-train.h5 beside --checkpoint).")
    var standardizeFrom: String?

    @Flag(help: "The extractor was trained without feature standardisation (train --no-standardize).")
    var noStandardize = false

    @Option(help: "Data-set cache (HDF5 with /images uint8 [N, C, H, W]).")
    var input: String

    @Option(help: "Where to write the predictions (HDF5).")
    var output: String

    @Flag(help: "Feed the images as they are, without the zero padding to the model's input size that `train` applies.")
    var noPad = false

    @Option(help: "Images per forward pass.")
    var batchSize = 64

    static let format = "gradfeat-predictions"

    func run() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard let weightsPath = network.weights else {
            throw ValidationError("--weights is required: predictions of a random network compare with nothing")
        }
        let images = try readImages(URL(fileURLWithPath: input))
        let checkpointState = try checkpoint.map { try CheckpointFile.load(URL(fileURLWithPath: $0)) }
        if let extractor, checkpointState == nil {
            throw ValidationError("--extractor \(extractor) needs --checkpoint (a checkpoint written by `gradfeat train`)")
        }
        if let checkpointState, let extractor, extractor != checkpointState.extractor {
            throw ValidationError("--checkpoint holds extractor '\(checkpointState.extractor)', not '\(extractor)'")
        }
        let run = checkpoint.map { RunDirectory(checkpoint: URL(fileURLWithPath: $0)) }

        // The network, its head from the weights unless the checkpoint brings one.
        let probe = try ModelZoo.make(network.model, classes: 2, inputChannels: images.shape[1], seed: 0)
        var batches = try ImageBatches(
            pixels: images.pixels, imageShape: [images.shape[1], images.shape[2], images.shape[3]],
            targets: .classes(Array(repeating: 0, count: images.shape[0])), classCount: 1, scaling: probe.inputScaling)
        let size = probe.inputShape[1]
        let border = noPad ? 0 : ImageBatches.paddingBorder(from: batches.imageShape[1], to: size)
        if border > 0 {
            note("padding \(batches.imageShape[1])×\(batches.imageShape[2]) images with zeros by \(border), as `gradfeat train` does (--no-pad: feed them as they are)")
            batches = batches.padded(by: border)
        }
        let weightsURL = URL(fileURLWithPath: weightsPath)
        let weightsClasses = try headRows(weightsURL)
        let omegaState = try omegaCheckpoint(run: run, checkpoint: checkpointState)
        let classes = checkpointState.flatMap { classCount(of: $0.state) } ?? omegaState.flatMap { classCount(of: $0.state) }
            ?? weightsClasses
        guard let classes else {
            throw ValidationError("cannot tell the number of classes: \(weightsPath) has no fc.weight and no checkpoint gives a head")
        }
        let fresh = try ModelZoo.make(
            network.model, classes: classes, inputChannels: batches.imageShape[0], inputSize: batches.imageShape[1], seed: 0)
        let headIsNew = weightsClasses != classes || checkpointState != nil
        var base = try WeightsFile.load(weightsURL, into: fresh, keepInitial: network.keepInitial + (headIsNew ? ["fc."] : []))

        var outputs: [String: [Float]] = ["logits": []]
        let count = batches.count
        if let checkpointState {
            let (state, extractorName) = (checkpointState.state, checkpointState.extractor)
            let record = run?.record()
            let defaults = try ModelZoo.defaults(for: network.model)
            let layers = linearize.map { $0.split(separator: ",").map(String.init) } ?? record?.linearize ?? defaults.linearize
            let splitLayer = split ?? record?.split ?? layers.first!
            guard let parametrization = Parametrization(rawValue: parametrization ?? record?.parametrization ?? "ntk") else {
                throw ValidationError("--parametrization must be 'ntk' or 'standard'")
            }
            if !noStandardize {
                let path = standardizeFrom ?? run?.file("activations-train.h5")
                guard let path, FileManager.default.fileExists(atPath: path) else {
                    throw ValidationError(
                        "training standardises features with statistics of the training set: pass --standardize-from "
                            + "OUTPUT/activations-train.h5 of the run (or --no-standardize if it was trained with it)")
                }
                let (cache, producer) = try ActivationCacheFile.load(URL(fileURLWithPath: path))
                let expected = try ActivationCacheFile.Producer(
                    network: base, layer: splitLayer, split: producer.split, source: producer.source,
                    transform: producer.transform)
                guard producer.layer == splitLayer, producer.weightsHash == expected.weightsHash else {
                    throw ValidationError(
                        "\(path) holds activations of layer '\(producer.layer)' made with other weights (hash "
                            + "\(producer.weightsHash)); this run needs '\(splitLayer)' of \(weightsPath) (\(expected.weightsHash))")
                }
                note("standardising features with statistics of \(path)")
                base = try base.standardizingFeatures(using: cache, splitAt: splitLayer)
            }
            let entry = try ExtractorRegistry.shared.entry(extractorName)
            var omegaBar: Head?
            if entry.needsOmegaBar {
                if let omega = omegaState?.state {
                    var activation = try ActivationFeatures(
                        network: base, splitAt: splitLayer, classes: classes, seed: 0, parametrization: parametrization)
                    guard omega.parameters.map(\.shape) == activation.parameters.map(\.shape) else {
                        throw ValidationError("the ω̄ checkpoint holds a head of another shape than \(classes) classes")
                    }
                    activation.parameters = omega.parameters
                    omegaBar = activation.head
                } else if weightsClasses == classes {
                    note("no activation checkpoint: ω̄ is the head of \(weightsPath)")
                    omegaBar = base.head
                }
            }
            let context = ExtractorContext(
                network: base, split: splitLayer, linearize: layers, classes: classes, omegaBar: omegaBar,
                seed: 0, parametrization: parametrization)
            var model = try ExtractorRegistry.shared.make(extractorName, context: context)
            guard model.parameterNames == state.parameterNames,
                  model.parameters.map(\.shape) == state.parameters.map(\.shape)
            else {
                throw ValidationError(
                    "the checkpoint's parameters (\(state.parameterNames.joined(separator: ", "))) do not fit '\(extractorName)' "
                        + "with split \(splitLayer), linearized \(layers.joined(separator: ",")), \(classes) classes")
            }
            model.parameters = state.parameters
            let bottom = try base.bottom(splitAt: splitLayer)
            for start in stride(from: 0, to: count, by: batchSize) {
                let x = try batches.batch(Array(start..<min(start + batchSize, count))).inputs
                let result = try model.forward(try bottom.forward(x, mode: .evaluation), mode: .evaluation)
                outputs["logits"]!.append(contentsOf: result.logits.scalars)
                if let a = result.activationTerm, let g = result.gradientTerm {
                    outputs["activation_term", default: []].append(contentsOf: a.scalars)
                    outputs["gradient_term", default: []].append(contentsOf: g.scalars)
                }
            }
        } else {
            for start in stride(from: 0, to: count, by: batchSize) {
                let x = try batches.batch(Array(start..<min(start + batchSize, count))).inputs
                outputs["logits"]!.append(contentsOf: try base.logits(x).scalars)
            }
        }

        try HDF5File.writeAtomically(to: URL(fileURLWithPath: output), format: Self.format, version: 1) { file in
            try file.setAttribute("model", network.model)
            try file.setAttribute("weights", weightsPath)
            try file.setAttribute("input", input)
            try file.setAttribute("extractor", checkpointState?.extractor ?? "network")
            try file.setAttribute("input_scaling_mean", base.inputScaling.mean.map(Double.init))
            try file.setAttribute("input_scaling_std", base.inputScaling.std.map(Double.init))
            for (name, values) in outputs.sorted(by: { $0.key < $1.key }) {
                try file.createDataset(name, values: values, shape: [count, classes])
            }
        }
        print("wrote \(output): \(outputs.keys.sorted().joined(separator: ", ")) for \(count) images, \(classes) classes")
    }

    /// ω̄'s checkpoint: --omega, else activation.h5 beside the checkpoint (when the extractor needs ω̄).
    func omegaCheckpoint(
        run: RunDirectory?, checkpoint: (state: TrainingState, extractor: String)?
    ) throws -> (state: TrainingState, extractor: String)? {
        guard let checkpoint, checkpoint.extractor != "activation",
              (try? ExtractorRegistry.shared.entry(checkpoint.extractor).needsOmegaBar) == true
        else { return nil }
        let path = omega ?? run?.file("activation.h5")
        guard let path, FileManager.default.fileExists(atPath: path) else { return nil }
        let loaded = try CheckpointFile.load(URL(fileURLWithPath: path))
        guard loaded.extractor == "activation" else {
            throw ValidationError("\(path) is a checkpoint of '\(loaded.extractor)', not of the activation model")
        }
        return loaded
    }

    /// The number of classes of a checkpoint's head (`fc.weight`), if it has one.
    func classCount(of state: TrainingState) -> Int? {
        guard let i = state.parameterNames.firstIndex(of: "fc.weight") else { return nil }
        return state.parameters[i].shape[0]
    }

    /// Rows of the weights file's `fc.weight`, if present.
    func headRows(_ url: URL) throws -> Int? {
        let file = try HDF5File(url: url, mode: .readOnly)
        guard try file.exists("fc.weight") else { return nil }
        return try file.dataset(named: "fc.weight").shape.first
    }

    /// The uint8 images [N, C, H, W] of a data-set cache.
    func readImages(_ url: URL) throws -> (pixels: [UInt8], shape: [Int]) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ValidationError("--input \(input): no such file") }
        let file = try HDF5File(url: url, mode: .readOnly)
        let dataset = try file.dataset(named: "images")
        guard dataset.shape.count == 4 else {
            throw ValidationError("\(input): /images has shape \(dataset.shape); expected [N, C, H, W] uint8")
        }
        return (try dataset.read(), dataset.shape)
    }
}

/// The folder of a `gradfeat train` run: checkpoints, activation caches and config.json side by side.
struct RunDirectory {
    var directory: URL

    init(checkpoint: URL) { directory = checkpoint.deletingLastPathComponent() }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// What config.json says about the split, the linearized layers and the parametrization (fields may be absent).
    struct Record: Decodable {
        var split: String?
        var linearize: [String]?
        var parametrization: String?
    }

    func record() -> Record? {
        guard let data = FileManager.default.contents(atPath: file("config.json")) else { return nil }
        return try? JSONDecoder().decode(Record.self, from: data)
    }
}
