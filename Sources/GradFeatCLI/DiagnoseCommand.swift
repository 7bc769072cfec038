import ArgumentParser
import Foundation
import GradFeat
import Layers
import Tensor

/// How good a run's linear model is as a model of its network, which layer carries the gradient term, and how well
/// its kernels align with the labels.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract:
            "Linearization diagnostics of a run's gradient term: the gap to the network, per-layer shares, kernel alignment.",
        discussion: """
            Writes OUTPUT/diagnostics.md, diagnostics.json, diagnostics-gap.svg and diagnostics-accuracy.svg \
            (OUTPUT: the run folder unless --output says otherwise):
            - the linearization gap: for t from 0.01 to 2, the network with θ2 = θ̄2 + t·w2 (the trained w2) \
            against its linear model F(θ̄) + t·ω̄ᵀJw2 on the test set — ‖F_net − L‖ / ‖L − F(θ̄)‖ and both accuracies;
            - each linearized layer's share ⟨g_l, g⟩/‖g‖² of the gradient term g = Σ_l g_l over the test set;
            - the centred kernel–target alignment of the empirical NTK of θ2 (through the --projection), and of the \
            activation kernel, on --kernel-samples training images;
            - a score computable before any training: the alignment of the features' gradient kernel under random \
            cotangents (no head needed), for the run's network and, with --compare-random, for the same network \
            with θ1 re-initialised (the paper's ablation), on the same images.
            """)

    @Option(name: .customLong("run"), help: "A run folder written by train with a gradient or gradfeat model.")
    var runFolder: String

    @Option(
        help: "The trained model whose w2 is diagnosed: gradfeat or gradient (default: gradfeat if the run has it).",
        completion: RegistryCompletion.extractors)
    var extractor: String?

    @Option(help: "Where to write the diagnostics (default: the run folder).")
    var output: String?

    @Option(help: "Test images for the gap and the shares (default: all).")
    var testSize: Int?

    @Option(help: "Training images for the kernel alignments (evenly spaced through the training set).")
    var kernelSamples = 500

    @Option(help: "Dimensions of the NTK's projected rows (docs/SAMPLE-GRADIENTS.md).")
    var projection = 4096

    @Flag(help: "Also score the network with θ1 re-initialised (reads the run's data set again).")
    var compareRandom = false

    @Flag(help: "Print no progress.")
    var quiet = false

    static let grid: [Double] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 1.5, 2]

    func validate() throws {
        if let testSize, testSize <= 0 { throw ValidationError("--test-size must be positive, got \(testSize)") }
        guard (2...KernelAlignment.maximumSamples).contains(kernelSamples) else {
            throw ValidationError(
                "--kernel-samples must be 2 to \(KernelAlignment.maximumSamples), got \(kernelSamples)")
        }
        guard projection > 0 else { throw ValidationError("--projection must be positive, got \(projection)") }
    }

    /// What diagnostics.json holds.
    struct Report: Codable {
        var run: String
        var extractor: String
        var linearized: [String]
        var testImages: Int
        var gap: [LinearizationDiagnostics.GapPoint]
        var shares: [LinearizationDiagnostics.LayerShare]
        var kernelSamples: Int
        var projection: Int
        var ntkAlignment: Double
        var activationAlignment: Double
        var gradientKernelScore: Double
        var gradientKernelScoreRandomTheta1: Double?
    }

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let clock = Date()
        let run = RunDirectory(URL(fileURLWithPath: runFolder))
        let record = try run.record()
        let name = extractor ?? (record.extractors.contains("gradfeat") ? "gradfeat" : "gradient")
        guard FileManager.default.fileExists(atPath: run.checkpoint(name).path) else {
            throw RunDirectory.Error.missingFile(
                path: run.checkpoint(name).path,
                fix:
                    "this run trained \(record.extractors.joined(separator: ", ")); diagnose a gradient or gradfeat model "
                    + "with --extractor, or train one into \(run.url.path)")
        }
        // The built-in models without a gradient term are refused before anything is read or locked.
        guard !["activation", "finetune"].contains(name) else {
            throw GradFeatError.invalidConfiguration(
                "'\(name)' has no gradient term to diagnose: choose a gradient or gradfeat model with --extractor")
        }
        let outputFolder = output.map { URL(fileURLWithPath: $0) } ?? run.url
        let lock = try RunLock(outputFolder)
        defer { withExtendedLifetime(lock) {} }
        let layout = try run.layout(model: record.model, record: record)
        let (base, train, test, _) = try runActivations(run: run, record: record, layout: layout, quiet: quiet)
        guard train.count >= 2, test.count > 0 else {
            throw GradFeatError.invalidConfiguration(
                "\(run.url.path) has \(train.count) training and \(test.count) test images: diagnose needs at least 2 and 1"
            )
        }
        let trained = try run.rebuild(
            checkpoint: run.checkpoint(name), network: try run.featureNetwork(base, layout: layout), layout: layout,
            record: record, fallbackOmegaBar: base.head, registry: GradFeatCLI.plugins.extractors)
        let model: GradientFeatures
        if let gradient = trained.extractor as? GradientFeatures {
            model = gradient
        } else if let full = trained.extractor as? GradFeatFeatures {
            model = full.gradient
        } else {
            throw GradFeatError.invalidConfiguration(
                "'\(name)' has no gradient term to diagnose: choose a gradient or gradfeat model with --extractor")
        }
        let diagnostics = try LinearizationDiagnostics(model)
        // Evenly spaced through the test set, so a class-sorted set is sampled across its classes.
        let testCount = min(testSize ?? test.count, test.count)
        let testData = SubsetBatches(test, indices: (0..<testCount).map { $0 * test.count / testCount })
        let rawTop = try LinearizedTop(try base.top(splitAt: layout.split), linearize: layout.linearize)
        // The projections first: a --projection that does not fit is refused before the long passes.
        let ntkProjection = try KroneckerProjection(dimension: projection, top: model.top, seed: 0)
        let scoreProjection = try KroneckerProjection(dimension: projection, top: rawTop, seed: 0)
        if !quiet {
            note("diagnose: linearization gap on \(testData.count) test images at \(Self.grid.count) values of t")
        }
        let gap = try diagnostics.gap(on: testData, grid: Self.grid)
        if !quiet { note("diagnose: per-layer shares of the gradient term") }
        let shares = try diagnostics.layerShares(on: testData)

        let m = min(kernelSamples, train.count)
        let indices = (0..<m).map { $0 * train.count / m }
        let sample = try train.batch(indices)
        if !quiet { note("diagnose: kernel alignments on \(m) training images (NTK rows projected to \(projection))") }
        // The NTK of w2 as trained: with respect to the stored values (the parametrization's factors in).
        let ntkRows = try GradientRows(
            top: model.top, head: model.omegaBar, scales: model.parametrization.scales(for: model.top.zeroTangent),
            map: .projected(ntkProjection))
        var rows: [Float] = []
        for start in stride(from: 0, to: m, by: 64) {
            let slice = sample.inputs.rows(start..<min(start + 64, m))
            rows += try ntkRows.jacobianRows(slice).scalars
        }
        let ntk = try KernelAlignment.centred(
            rows: try Tensor(shape: [m, rows.count / m], scalars: rows), targets: sample.targets,
            classes: train.classCount)
        let activation = try KernelAlignment.centred(
            rows: try model.top.apply(sample.inputs, parameterTangent: nil).value, targets: sample.targets,
            classes: train.classCount)
        // The pre-training score on the network's own top (no standardisation, no head), as for any candidate.
        func score(_ inputs: Tensor, _ targets: Targets) throws -> Double {
            try KernelAlignment.gradientKernelScore(
                top: rawTop, inputs: inputs, targets: targets, classes: train.classCount,
                map: .projected(scoreProjection))
        }
        var pretrainedScore = try score(sample.inputs, sample.targets)
        var randomScore: Double?
        if compareRandom {
            if !quiet { note("diagnose: reading \(record.dataset) again for the network with θ1 re-initialised") }
            let dataSpec =
                try record.experiment.map(\.data)
                ?? {
                    throw GradFeatError.invalidConfiguration(
                        "\(run.file("config.json").path) does not record its data: --compare-random needs a run written by this gradfeat"
                    )
                }()
            let loaded = try ExperimentData.load(
                dataSpec, model: try GradFeatCLI.plugins.models.entry(record.model), seed: record.seed,
                plugins: GradFeatCLI.plugins, quiet: quiet, budget: .default)
            guard loaded.train.count == train.count else {
                throw GradFeatError.invalidConfiguration(
                    "\(record.dataset) now has \(loaded.train.count) training images, the run's cache \(train.count): "
                        + "--compare-random needs the data the run was trained on")
            }
            let images = try loaded.train.batch(indices)
            let shape =
                try record.inputShape
                ?? { throw GradFeatError.invalidConfiguration("the run records no input shape") }()
            let random = try ModelZoo.make(
                record.model, classes: train.classCount, inputChannels: shape[0],
                inputSize: shape[1], seed: record.seed &+ 1)
            // The same images through the pre-trained and through a random θ1, into the same θ2.
            pretrainedScore = try score(try base.bottom(splitAt: layout.split).forward(images.inputs), images.targets)
            randomScore = try score(try random.bottom(splitAt: layout.split).forward(images.inputs), images.targets)
        }

        let report = Report(
            run: run.url.path, extractor: name, linearized: layout.linearize, testImages: testData.count, gap: gap,
            shares: shares, kernelSamples: m, projection: projection, ntkAlignment: ntk,
            activationAlignment: activation, gradientKernelScore: pretrainedScore,
            gradientKernelScoreRandomTheta1: randomScore)
        let markdown = Self.markdown(report, model: record.model, split: layout.split)
        // Encoded before anything is written (JSON refuses a NaN: an mAP with no positive in the test images).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json = String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
        try writeAtomically(markdown, to: outputFolder.appendingPathComponent("diagnostics.md"))
        try writeAtomically(json, to: outputFolder.appendingPathComponent("diagnostics.json"))
        let gapPlot = SVGPlot(
            title: "Linearization gap of \(name)", xLabel: "t (θ2 = θ̄2 + t·w2)",
            yLabel: "‖F_net − L‖ / ‖L − F(θ̄)‖", series: [("relative gap", gap.map { ($0.t, $0.relativeGap) })])
        try writeAtomically(gapPlot.render(), to: outputFolder.appendingPathComponent("diagnostics-gap.svg"))
        let accuracyPlot = SVGPlot(
            title: "Network and linear model along w2", xLabel: "t", yLabel: "test metric (%)",
            series: [
                ("network θ̄2 + t·w2", gap.map { ($0.t, 100 * $0.networkMetric) }),
                ("linear model", gap.map { ($0.t, 100 * $0.linearMetric) }),
            ])
        try writeAtomically(accuracyPlot.render(), to: outputFolder.appendingPathComponent("diagnostics-accuracy.svg"))
        print(markdown)
        print(
            String(
                format: "Diagnose: %@ (%.1f s)", outputFolder.appendingPathComponent("diagnostics.md").path,
                Date().timeIntervalSince(clock)))
    }

    static func markdown(_ report: Report, model: String, split: String) -> String {
        var lines = [
            "# Linearization diagnostics of \(report.run)", "",
            "- \(report.extractor): \(model), θ1 = layers before \(split), θ2 = \(report.linearized.joined(separator: ", "))",
            "- gap and shares on \(report.testImages) test images; kernels on \(report.kernelSamples) training images "
                + "(NTK rows projected to \(report.projection))", "",
            "## Linearization gap", "",
            "| t | ‖F_net − L‖ / ‖L − F(θ̄)‖ | network (%) | linear model (%) |", "|---|---|---|---|",
        ]
        for point in report.gap {
            lines.append(
                String(
                    format: "| %g | %.4f | %.2f | %.2f |", point.t, point.relativeGap,
                    100 * point.networkMetric, 100 * point.linearMetric))
        }
        lines += [
            "", "## Each linearized layer's share of the gradient term", "",
            "| layer | ⟨g_l, g⟩ / ‖g‖² | ‖g_l‖ / ‖g‖ |", "|---|---|---|",
        ]
        for share in report.shares {
            lines.append(String(format: "| %@ | %.4f | %.4f |", share.layer, share.share, share.relativeNorm))
        }
        lines += [
            "", "## Kernel–target alignment (centred)", "", "| kernel | alignment |", "|---|---|",
            String(format: "| empirical NTK of θ2 (ω̄ᵀJ rows) | %.4f |", report.ntkAlignment),
            String(format: "| activations f(x) | %.4f |", report.activationAlignment),
            String(
                format: "| features' gradient kernel, before training (pre-trained θ1) | %.4f |",
                report.gradientKernelScore),
        ]
        if let random = report.gradientKernelScoreRandomTheta1 {
            lines.append(
                String(format: "| features' gradient kernel, before training (θ1 re-initialised) | %.4f |", random))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
