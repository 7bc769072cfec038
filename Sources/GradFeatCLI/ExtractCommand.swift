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
        abstract:
            "Write activation features f(x), gradient features ω̄ᵀJ(x) or per-sample loss gradients of a data-set cache to HDF5.",
        discussion: """
            Output (format gradfeat-features, version 1): /features float32 — [N, d] for activation features; \
            [N, c, D] for gradient features (row (n, k): the gradient of (ω̄ᵀ f(x_n))_k with respect to θ2, the \
            linearized layers' parameters); [N, D] for loss-gradient (the gradient of sample n's own loss at the \
            network's logits with respect to θ2, what torch.func.vmap(grad) gives) — and /labels as in the input. \
            D is |θ2| (columns in the order of the `parameter_names` attribute, each weight then its bias) or, \
            with --projection K, K: each layer's gradient M [O, I+1] projected as A M Bᵀ with seeded Gaussian \
            factors (attributes `projection`, `projection_seed`; docs/FORMATS.md). Features are those of the \
            network as given (no standardisation); ω̄ is the head of the weights file. Rows are computed a batch at \
            a time (one backward pass per class, or one for the loss) and written as they come.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case activation, gradient
        case lossGradient = "loss-gradient"
    }

    @OptionGroup var network: NetworkOptions

    @Option(help: "activation (f(x)), gradient (ω̄ᵀ J(x), c rows an image) or loss-gradient (∇_θ2 ℓ, one row an image).")
    var features = Kind.activation

    @Option(help: "Linearized layers θ2 for gradient features, comma-separated (default: the model's).")
    var linearize: String?

    @Option(
        help:
            "Project each gradient row to K dimensions with a seeded Kronecker-structured Gaussian (default: exact, |θ2| columns)."
    )
    var projection: Int?

    @Option(help: "Seed of the projection's Gaussian factors.")
    var projectionSeed: UInt64 = 0

    @Option(help: "Loss of --features loss-gradient: ce, bce or mse (default: ce, or bce for multi-label data).")
    var loss: String?

    /// `--loss` parsed (validated in `validate`).
    private var lossKind: TrainingConfiguration.LossKind? {
        loss.flatMap(TrainingConfiguration.LossKind.init(rawValue:))
    }

    @Option(help: "Images per batch of gradient rows (default: as many as keep a batch's rows under 256 MB).")
    var batchSize: Int?

    @Option(help: "Data-set cache (HDF5 written by `gradfeat cache`).")
    var input: String

    @Option(help: "Where to write the features (HDF5).")
    var output: String

    @Option(help: "Refuse to write more than this many GB of features.")
    var maxGigabytes: Double = 8

    func validate() throws {
        if let projection, projection <= 0 {
            throw ValidationError("--projection must be a positive dimension, got \(projection)")
        }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if features == .activation, projection != nil {
            throw ValidationError(
                "--projection applies to gradient rows: use it with --features gradient or loss-gradient")
        }
        if let loss, TrainingConfiguration.LossKind(rawValue: loss) == nil {
            throw ValidationError("--loss must be ce, bce or mse, got '\(loss)'")
        }
        if features != .lossGradient, loss != nil {
            throw ValidationError("--loss applies to --features loss-gradient only")
        }
    }

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        guard network.weights != nil else {
            throw ValidationError("--weights is required: features of a random network are rarely what you want")
        }
        // Streamed: a batch of images in memory at a time, the features written a batch at a time.
        let reader = try ExperimentData.openCache(input, option: "--input")
        guard reader.count > 0 else {
            throw ValidationError(
                "--input \(input) holds no images: cache a split that has some (gradfeat cache --split …)")
        }
        let model = try ModelZoo.metadata(for: network.modelName)
        let images = DatasetCacheImages(
            reader, scaling: model.inputScaling,
            border: ImageBatches.paddingBorder(from: reader.imageShape[1], to: model.inputShape[1]))
        let base = try network.network(
            classes: max(images.classCount, 1), channels: images.sampleShape[0], size: images.sampleShape[1], seed: 0)
        let layers = try linearize.map(commaSeparatedNames) ?? ModelZoo.defaults(for: network.modelName).linearize

        var rows: GradientRows?
        if features != .activation {
            let top = try LinearizedTop(base.backbone, linearize: layers)
            let map: GradientRowMap =
                try projection.map {
                    .projected(try KroneckerProjection(dimension: $0, top: top, seed: projectionSeed))
                } ?? .exact
            rows = try GradientRows(top: top, head: base.head, map: map)
        }
        let rowShape: [Int]
        switch (features, rows) {
        case let (.gradient, rows?): rowShape = [base.classCount, rows.dimension]
        case let (.lossGradient, rows?): rowShape = [rows.dimension]
        default: rowShape = [base.featureCount]
        }
        let width = rowShape.reduce(1, *)
        let gigabytes = Double(images.count) * Double(width) * 4 / 1e9
        guard gigabytes <= maxGigabytes else {
            throw ValidationError(
                String(
                    format: "the features would take %.1f GB (over --max-gigabytes %.0f): %@, or use fewer images",
                    gigabytes, maxGigabytes,
                    features == .activation
                        ? "choose a smaller network"
                        : "linearize fewer or smaller layers, or project them (--projection 4096)"))
        }
        let lossFunction =
            try features == .lossGradient
            ? TrainingConfiguration.LossKind.loss(lossKind, for: try images.batch([0]).targets) : nil
        // A batch's rows and its layers' per-sample factors (δ and im2col columns, measured on one image) stay
        // under 256 MB by default and under 4 GB whatever --batch-size says.
        var bytesPerImage = 4 * width
        if let rows {
            let probe = try rows.top.apply(try images.batch([0]).inputs, parameterTangent: nil)
            let factors = try rows.top.perSampleFactors(probe.record, cotangent: .zeros(like: probe.value))
            bytesPerImage += 4 * factors.reduce(0) { $0 + $1.outputGradient.count + $1.inputColumns.count }
        }
        let batchSize = batchSize ?? (rows == nil ? 256 : max(1, min(64, (256 << 20) / bytesPerImage)))
        guard Double(batchSize) * Double(bytesPerImage) <= 4 * Double(1 << 30) else {
            throw ValidationError(
                String(
                    format:
                        "--batch-size %d needs %.1f GB for a batch's rows and per-sample factors; choose at most %d",
                    batchSize, Double(batchSize) * Double(bytesPerImage) / Double(1 << 30),
                    max(1, (4 << 30) / bytesPerImage)))
        }
        let clock = Date()
        let progress = ProgressReporter("extract", total: images.count, unit: "img")
        let backbone = try base.backbone.foldingBatchNorm()
        let url = URL(fileURLWithPath: output)
        try HDF5File.writeAtomically(to: url, format: "gradfeat-features", version: 1) { file in
            try file.setAttribute("model", network.modelName)
            try file.setAttribute("kind", features.rawValue)
            try file.setAttribute("source", input)
            if let rows {
                try file.setAttribute("parameter_names", rows.top.parameterNames)
                if case let .projected(projection) = rows.map {
                    try file.setAttribute("projection", projection.dimension)
                    try file.setAttribute("projection_seed", String(projection.seed)) // a UInt64: as text
                    try file.setAttribute(
                        "projection_blocks",
                        projection.blocks.flatMap { [$0.outputFactor.shape[0], $0.inputFactor.shape[0]] })
                }
                if let lossFunction { try file.setAttribute("loss", String(describing: type(of: lossFunction))) }
            }
            let dataset = try file.createDataset("features", elementType: .float32, shape: [images.count] + rowShape)
            for start in stride(from: 0, to: images.count, by: batchSize) {
                let batch = try images.batch(Array(start..<min(start + batchSize, images.count)))
                let values: Tensor
                switch (features, rows, lossFunction) {
                case let (.gradient, rows?, _): values = try rows.jacobianRows(batch.inputs)
                case let (.lossGradient, rows?, loss?):
                    values = try rows.lossGradients(batch.inputs, targets: batch.targets, loss: loss)
                default: values = try backbone.forward(batch.inputs)
                }
                try dataset.write(rows: start, values.scalars)
                progress.update(min(start + batchSize, images.count))
            }
            switch reader.labels {
            case let .single(labels): try file.createDataset("labels", values: labels)
            case let .multi(flags):
                try file.createDataset("labels", values: flags, shape: [reader.count, images.classCount])
            }
        }
        let seconds = Date().timeIntervalSince(clock)
        print(
            String(
                format: "extracted %@ features %@ of %d images in %.1f s (%.0f img/s) → %@", features.rawValue,
                ([images.count] + rowShape).description, images.count, seconds,
                Double(images.count) / max(seconds, 1e-9), output))
    }
}
