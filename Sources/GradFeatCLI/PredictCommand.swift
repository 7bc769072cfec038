import ArgumentParser
import Datasets
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

            With --checkpoint the extractor is rebuilt as `train` built it (RunDirectory): its split, linearized \
            layers, parametrization and standardisation come from config.json beside the checkpoint (options \
            override), ω̄ from where training took it (activation.h5 beside it, or --omega), and the feature \
            standardisation from activations-train.h5 beside it (or --standardize-from; --no-standardize for a \
            run without config.json that used --no-standardize). `gradfeat eval --run` scores a whole run folder.
            """)

    @OptionGroup var network: NetworkOptions

    @Option(
        help: "Extractor of the checkpoint (default: the checkpoint's own); without --checkpoint, the network alone.",
        completion: RegistryCompletion.extractors)
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

    @Option(
        help:
            "Activation cache of the training images, to standardise features as training did (default: activations-train.h5 beside --checkpoint)."
    )
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

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard let weightsPath = network.weights else {
            throw ValidationError("--weights is required: predictions of a random network compare with nothing")
        }
        let reader = try openImages(URL(fileURLWithPath: input))
        let checkpointURL = checkpoint.map { URL(fileURLWithPath: $0) }
        let checkpointState = try checkpointURL.map { try CheckpointFile.load($0) }
        if let extractor, checkpointState == nil {
            throw ValidationError(
                "--extractor \(extractor) needs --checkpoint (a checkpoint written by `gradfeat train`)")
        }
        if let checkpointState, let extractor, extractor != checkpointState.extractor {
            throw ValidationError("--checkpoint holds extractor '\(checkpointState.extractor)', not '\(extractor)'")
        }
        let run = checkpointURL.map { RunDirectory(containing: $0) }
        let record = try run?.recordIfPresent()

        // The network, its head from the weights unless the checkpoint brings one.
        let model = try ModelZoo.metadata(for: network.modelName)
        let size = model.inputShape[1]
        let border = noPad ? 0 : ImageBatches.paddingBorder(from: reader.imageShape[1], to: size)
        if border > 0 {
            note(
                "padding \(reader.imageShape[1])×\(reader.imageShape[2]) images with zeros by \(border), as `gradfeat train` does (--no-pad: feed them as they are)"
            )
        }
        // Streamed: a batch of images in memory at a time.
        var batches = DatasetCacheImages(reader, scaling: model.inputScaling, border: border)
        if let crops = record?.experiment?.testCrops, crops != .none {
            // The run trained on centre crops of 7/8 of the side: predict from the same crop.
            let crop = TestCrops.cropSide(for: min(batches.imageShape[1], batches.imageShape[2]))
            note("centre-cropping the images to \(crop)x\(crop), as the run (test crops \(crops)) trained on them")
            batches = batches.centreCropped(to: crop)
        }
        let weightsURL = URL(fileURLWithPath: weightsPath)
        let weightsClasses = try headRows(weightsURL)
        // The classes: the checkpoint's head, else ω̄'s, else the weights'.
        let omegaURL = try checkpointState.flatMap { checkpoint -> URL? in
            guard try GradFeatCLI.plugins.extractors.entry(checkpoint.extractor).needsOmegaBar else { return nil }
            return run?.omegaBarCheckpoint(
                for: checkpoint.extractor, record: record, explicit: omega.map { URL(fileURLWithPath: $0) })
        }
        let omegaClasses = try omegaURL.flatMap { url in
            FileManager.default.fileExists(atPath: url.path) ? try CheckpointFile.load(url).state.headClassCount : nil
        }
        guard let classes = checkpointState?.state.headClassCount ?? omegaClasses ?? weightsClasses else {
            throw ValidationError(
                "cannot tell the number of classes: \(weightsPath) has no fc.weight and no checkpoint gives a head")
        }
        let fresh = try ModelZoo.make(
            network.modelName, classes: classes, inputChannels: batches.sampleShape[0],
            inputSize: batches.sampleShape[1],
            seed: record?.seed ?? 0)
        let headIsNew = weightsClasses != classes || checkpointState != nil
        let base = try WeightsFile.load(
            weightsURL, into: fresh, keepInitial: network.keepInitial + (headIsNew ? ["fc."] : []))

        var outputs: [String: [Float]] = ["logits": []]
        let count = batches.count
        if let run, let checkpointURL {
            let chosen = try parametrization.map { raw in
                guard let value = Parametrization(rawValue: raw) else {
                    throw ValidationError("--parametrization must be 'ntk' or 'standard', not '\(raw)'")
                }
                return value
            }
            let layout = try run.layout(
                model: network.modelName, record: record, split: split,
                linearize: linearize.map(commaSeparatedNames), parametrization: chosen,
                standardize: noStandardize ? false : nil)
            if layout.standardize {
                note(
                    "standardising features with statistics of \(standardizeFrom ?? run.activationCache("train").path)")
            }
            let trained = try run.rebuild(
                checkpoint: checkpointURL,
                network: try run.featureNetwork(
                    base, layout: layout, statistics: standardizeFrom.map { URL(fileURLWithPath: $0) }),
                layout: layout, record: record, omega: omega.map { URL(fileURLWithPath: $0) },
                fallbackOmegaBar: weightsClasses == classes ? base.head : nil)
            if let source = trained.omegaBarSource { note("ω̄: \(source)") }
            let bottom = try trained.bottom()
            for start in stride(from: 0, to: count, by: batchSize) {
                let x = try batches.batch(Array(start..<min(start + batchSize, count))).inputs
                let result = try trained.extractor.evaluationTerms(try bottom.forward(x, mode: .evaluation))
                outputs["logits"]!.append(contentsOf: result.logits.scalars)
                if let a = result.activation, let g = result.gradient {
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
            try file.setAttribute("model", network.modelName)
            try file.setAttribute("weights", weightsPath)
            try file.setAttribute("input", input)
            try file.setAttribute("extractor", checkpointState?.extractor ?? "network")
            try file.setAttribute("input_scaling_mean", base.inputScaling.mean.map(Double.init))
            try file.setAttribute("input_scaling_std", base.inputScaling.std.map(Double.init))
            for (name, values) in outputs.sorted(by: { $0.key < $1.key }) {
                try file.createDataset(name, values: values, shape: [count, classes])
            }
        }
        print(
            "wrote \(output): \(outputs.keys.sorted().joined(separator: ", ")) for \(count) images, \(classes) classes")
    }

    /// Rows of the weights file's `fc.weight`, if present.
    func headRows(_ url: URL) throws -> Int? {
        let file = try HDF5File(url: url, mode: .readOnly)
        guard try file.exists("fc.weight") else { return nil }
        return try file.dataset(named: "fc.weight").shape.first
    }

    /// The data-set cache's images, through the checked reader (format, version, shapes, labels, stored data), as
    /// every other command reads one; `DatasetCacheImages` reads them a batch at a time.
    func openImages(_ url: URL) throws -> DatasetCacheReader {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("--input \(input): no such file")
        }
        return try DatasetCacheReader(url: url)
    }
}
