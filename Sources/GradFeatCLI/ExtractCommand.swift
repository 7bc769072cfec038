import ArgumentParser
import Datasets
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor

/// Features for use elsewhere (kernels, SVMs, another framework).
struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Write activation features f(x) or explicit gradient features ω̄ᵀJ(x) of a data-set cache to HDF5.",
        discussion: """
            Output (format gradfeat-features, version 1): /features float32 — [N, d] for activation features, \
            [N, c, |θ2|] for gradient features (one row per class k: the gradient of (ω̄ᵀ f(x))_k with respect to \
            the linearized layers' parameters, in the order of the `parameter_names` attribute) — and /labels as \
            in the input. Features are those of the network as given (no standardisation); ω̄ is the head of the \
            weights file. Gradient features cost memory c·|θ2| floats per image: keep θ2 small.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case activation, gradient }

    @OptionGroup var network: NetworkOptions

    @Option(help: "activation (f(x)) or gradient (ω̄ᵀ J(x)).")
    var features = Kind.activation

    @Option(help: "Linearized layers for gradient features, comma-separated (default: the model's).")
    var linearize: String?

    @Option(help: "Data-set cache (HDF5 written by `gradfeat cache`).")
    var input: String

    @Option(help: "Where to write the features (HDF5).")
    var output: String

    @Option(help: "Refuse to write more than this many GB of features.")
    var maxGigabytes: Double = 8

    func run() throws {
        guard network.weights != nil else {
            throw ValidationError("--weights is required: features of a random network are rarely what you want")
        }
        let set = try ExperimentData.readCache(input, option: "--input")
        let model = try ModelZoo.metadata(for: network.modelName)
        var images = try ImageBatches(set, scaling: model.inputScaling)
        images = images.padded(by: ImageBatches.paddingBorder(from: images.imageShape[1], to: model.inputShape[1]))
        let base = try network.network(
            classes: max(set.classCount, 1), channels: set.channels, size: images.imageShape[1], seed: 0)
        let layers = try linearize.map(commaSeparatedNames) ?? ModelZoo.defaults(for: network.modelName).linearize

        let explicit = features == .gradient
            ? ExplicitGradientFeatures(top: try LinearizedTop(base.backbone, linearize: layers), omegaBar: base.head) : nil
        let width = explicit.map { base.classCount * $0.featureCount } ?? base.featureCount
        let gigabytes = Double(images.count) * Double(width) * 4 / 1e9
        guard gigabytes <= maxGigabytes else {
            throw ValidationError(String(format: "the features would take %.1f GB (over --max-gigabytes %.0f): linearize fewer or smaller layers, or use fewer images", gigabytes, maxGigabytes))
        }
        let clock = Date()
        let progress = ProgressReporter("extract", total: images.count, unit: "img")
        let batchSize = explicit == nil ? 256 : 16
        var values = [Float]()
        values.reserveCapacity(images.count * width)
        let backbone = try base.backbone.foldingBatchNorm()
        for start in stride(from: 0, to: images.count, by: batchSize) {
            let x = try images.batch(Array(start..<min(start + batchSize, images.count))).inputs
            let f = try explicit.map { try $0.gradientFeatures(x) } ?? backbone.forward(x)
            values.append(contentsOf: f.scalars)
            progress.update(min(start + batchSize, images.count))
        }
        let shape = explicit.map { [images.count, base.classCount, $0.featureCount] } ?? [images.count, width]
        let url = URL(fileURLWithPath: output)
        try HDF5File.writeAtomically(to: url, format: "gradfeat-features", version: 1) { file in
            try file.setAttribute("model", network.modelName)
            try file.setAttribute("kind", features.rawValue)
            try file.setAttribute("source", input)
            if let explicit {
                try file.setAttribute("parameter_names", explicit.top.parameterNames)
            }
            try file.createDataset("features", values: values, shape: shape)
            switch set.labels {
            case let .single(labels): try file.createDataset("labels", values: labels)
            case let .multi(flags): try file.createDataset("labels", values: flags, shape: [set.count, set.classCount])
            }
        }
        print(String(format: "extracted %@ features %@ of %d images in %.1f s → %@", features.rawValue,
                     shape.description, images.count, Date().timeIntervalSince(clock), output))
    }
}
