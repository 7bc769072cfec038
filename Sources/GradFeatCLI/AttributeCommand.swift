import ArgumentParser
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor

/// Which training images made a prediction: exact leave-one-out scores of a run's MSE model.
struct AttributeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute",
        abstract: "Score every training image's effect on test predictions of a run's linear model (exact leave-one-out).",
        discussion: """
            For test example t and training example j the score is the true-class logit of t under the model \
            fitted on all training examples minus that under the model fitted without j (its term dropped, the \
            factor 1/N kept): positive means j helps. It is exact — no retraining — for a model trained with \
            --loss mse to the optimum (--solver cg) that gives its Jacobian rows: the activation model, and the \
            explicit gradient model (explicit-gradient) for small θ2 (docs/ATTRIBUTION.md).

            Output (format gradfeat-attribution, version 1): /scores float32 [n_test, n_train] (when it fits \
            --max-gigabytes), /top_indices int64 and /top_scores float32 [n_test, k] (the most helpful training \
            examples, by decreasing score), /bottom_indices and /bottom_scores (the most harmful, by increasing \
            score), /test_indices and /test_labels [n_test], /train_labels [n_train]; attributes: the run, the \
            extractor, λ, the solver's final relative residual and the relative gradient norm at the solution.
            """)

    @Option(name: .customLong("run"), help: "A run folder written by train (with --loss mse --solver cg).")
    var runFolder: String

    @Option(help: "The trained extractor to attribute: activation, or explicit-gradient.")
    var extractor = "activation"

    @Option(help: "Where to write the scores (HDF5).")
    var output: String

    @Option(help: "Attribute the first n test examples, in the run's test-set order.")
    var testSize = 100

    @Option(help: "How many most helpful and most harmful training examples to list per test example.")
    var topK = 10

    @Option(help: "Write the full /scores matrix only when it takes at most this many GB (top and bottom lists always).")
    var maxGigabytes: Double = 2

    @Option(help: "Also write an HTML page showing, for the first test images, the training images that help and hurt most.")
    var html: String?

    @Flag(help: "Print no progress.")
    var quiet = false

    func validate() throws {
        guard testSize > 0 else { throw ValidationError("--test-size must be positive, got \(testSize)") }
        guard topK > 0 else { throw ValidationError("--top-k must be positive, got \(topK)") }
        guard maxGigabytes >= 0, maxGigabytes.isFinite else {
            throw ValidationError("--max-gigabytes must be a number ≥ 0, got \(maxGigabytes)")
        }
    }

    func run() throws {
        let clock = Date()
        let run = RunDirectory(URL(fileURLWithPath: runFolder))
        let record = try run.record()
        let layout = try run.layout(model: record.model, record: record)
        // Refuse a model the scores cannot be exact for before anything is read or computed.
        let checkpoint = run.checkpoint(extractor)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw RunDirectory.Error.missingFile(
                path: checkpoint.path, fix: "this run trained \(record.extractors.joined(separator: ", ")); pass one of them with --extractor")
        }
        let configuration = try CheckpointFile.load(checkpoint).state.configuration
        guard configuration.loss == .mse, configuration.solver == .cg else {
            throw GradFeatError.invalidConfiguration(
                "\(checkpoint.path): '\(extractor)' was trained with "
                    + "\(configuration.loss?.rawValue ?? "cross-entropy") by \(configuration.solver == .minibatch ? configuration.optimizer.rawValue : configuration.solver.rawValue); "
                    + "exact attribution needs the MSE optimum: train it with --loss mse --solver cg --wd λ")
        }
        let (base, train, test) = try runActivations(run: run, record: record, layout: layout, quiet: quiet)
        let trained = try run.rebuild(
            checkpoint: checkpoint, network: try run.featureNetwork(base, layout: layout),
            layout: layout, record: record, fallbackOmegaBar: base.head, registry: GradFeatCLI.plugins.extractors)
        guard let model = trained.extractor as? any JacobianRowsProvider else {
            throw GradFeatError.invalidConfiguration(
                "'\(extractor)' does not give its Jacobian rows, so its scores cannot be exact: attribute the "
                    + "activation model, or explicit-gradient for a small θ2")
        }
        guard case .classes = try train.batch(Array(0..<min(1, train.count))).targets,
              let loss = try configuration.makeLoss(for: train) as? OneHotMeanSquaredError
        else {
            throw GradFeatError.invalidConfiguration("exact attribution needs one label per sample; \(record.dataset) is multi-label")
        }
        let testCount = min(testSize, test.count)
        // The scores in Float64 while ranked, and their Float32 copy for the file.
        let scoreGigabytes = Double(testCount) * Double(train.count) * 12 / 1e9
        guard scoreGigabytes <= 8 else {
            throw GradFeatError.invalidConfiguration(String(format: "--test-size %d: the scores of %d × %d pairs need %.1f GB; use a smaller --test-size", testSize, testCount, train.count, scoreGigabytes))
        }
        let testSubset = SubsetBatches(test, indices: Array(0..<testCount))
        // λ as solved: the checkpoint's (chosen on held-out data under --wd auto), else the configuration's.
        let lambda = trained.state.solverState?.numbers["lambda"] ?? Double(configuration.weightDecay)
        let attribution = LeaveOneOutAttribution(weightDecay: lambda)
        func scores<M: JacobianRowsProvider>(_ model: M) throws
            -> (scores: [Double], train: LeaveOneOutAttribution.Samples, test: LeaveOneOutAttribution.Samples,
                gradientRatio: Double)
        {
            if !quiet { note("attribute: Jacobian rows of \(train.count) training and \(testCount) test examples") }
            let trainSamples = try LeaveOneOutAttribution.samples(of: model, on: train, loss: loss)
            let testSamples = try LeaveOneOutAttribution.samples(of: model, on: testSubset, loss: loss)
            // How close the model is to the optimum the formula assumes: ‖∇L(w)‖ / ‖∇L(0)‖.
            let objective = FullBatchObjective(data: train, loss: loss, weightDecay: lambda)
            let atSolution = try objective.valueAndGradient(model, at: ParameterVector(model.parameters)).gradient
            let atZero = try objective.valueAndGradient(model, at: .zeros(like: model.parameters)).gradient
            if !quiet { note("attribute: leave-one-out scores of \(train.count) × \(testCount) pairs") }
            let scores = try attribution.scores(
                train: trainSamples.rows, residuals: trainSamples.residuals, classes: train.classCount,
                test: testSamples.rows, testClasses: testSamples.labels)
            return (scores, trainSamples, testSamples, atSolution.norm / max(atZero.norm, .leastNormalMagnitude))
        }
        let result = try scores(model)
        if result.gradientRatio > 1e-3 {
            note(String(format: "attribute: the model is not at the optimum (relative gradient norm %.2g): the scores "
                + "are the leave-one-out formula at these parameters, not exact; solve further (a larger --niter, "
                + "or --resume --niter N) for exact scores", result.gradientRatio))
        }
        let ranked = Ranking(scores: result.scores, rows: testCount, columns: train.count, k: min(topK, train.count))
        // The solver's own record: its final relative residual.
        let cgResidual = trained.state.solverState?.numbers["residual"]
        let fullBytes = Double(testCount) * Double(train.count) * 4
        let writesFull = fullBytes <= maxGigabytes * 1e9
        // The page is made (its images read and checked) before anything is written, so a refusal leaves no file.
        let page = try html.map { _ in
            try makePage(run: run, record: record, layout: layout, base: base, ranked: ranked, testLabels: result.test.labels)
        }
        try HDF5File.writeAtomically(to: URL(fileURLWithPath: output), format: "gradfeat-attribution", version: 1) { file in
            try file.setAttribute("run", run.url.path)
            try file.setAttribute("extractor", extractor)
            try file.setAttribute("method", "exact leave-one-out of the MSE ridge optimum (Woodbury identity)")
            try file.setAttribute("weight_decay", lambda)
            try file.setAttribute("target_scale", Double(configuration.targetScale))
            try file.setAttribute("relative_gradient_norm", result.gradientRatio)
            if let cgResidual { try file.setAttribute("solver_relative_residual", cgResidual) }
            if writesFull {
                try file.createDataset("scores", values: result.scores.map(Float.init), shape: [testCount, train.count])
            }
            try file.createDataset("top_indices", values: ranked.top.map(Int64.init), shape: [testCount, ranked.k])
            try file.createDataset("top_scores", values: ranked.topScores, shape: [testCount, ranked.k])
            try file.createDataset("bottom_indices", values: ranked.bottom.map(Int64.init), shape: [testCount, ranked.k])
            try file.createDataset("bottom_scores", values: ranked.bottomScores, shape: [testCount, ranked.k])
            try file.createDataset("test_indices", values: (0..<testCount).map(Int64.init))
            try file.createDataset("test_labels", values: result.test.labels.map(Int64.init))
            try file.createDataset("train_labels", values: result.train.labels.map(Int64.init))
        }
        if let html, let page { try writeAtomically(page, to: URL(fileURLWithPath: html)) }
        let residualText = cgResidual.map { String(format: "solver residual %.2g, ", $0) } ?? ""
        print(String(format: "attributed %d test examples to %d training examples (%@relative gradient norm %.2g) in %.1f s → %@%@",
                     testCount, train.count, residualText, result.gradientRatio, Date().timeIntervalSince(clock), output,
                     writesFull ? "" : String(format: " (no /scores: %.1f GB is over --max-gigabytes)", fullBytes / 1e9)))
        for t in 0..<min(3, testCount) {
            let helpers = (0..<min(3, ranked.k)).map { i in
                String(format: "#%d (label %d, %+.3g)", ranked.top[t * ranked.k + i],
                       result.train.labels[ranked.top[t * ranked.k + i]], ranked.topScores[t * ranked.k + i])
            }
            print("  test \(t) (label \(result.test.labels[t])): most helpful \(helpers.joined(separator: ", "))")
        }
    }

    /// The HTML page of the first test images (at most 12, 8 training images each way), with the images read
    /// again from the run's data set and checked to be those its activations were computed from.
    func makePage(run: RunDirectory, record: RunRecord, layout: RunDirectory.Layout, base: Network,
                  ranked: Ranking, testLabels: [Int]) throws -> String {
        guard let dataSpec = record.experiment?.data else {
            throw GradFeatError.invalidConfiguration(
                "\(run.url.path)/config.json does not record its data set in full (an older run): --html cannot "
                    + "find its images; train the run again to use --html")
        }
        let loaded = try ExperimentData.load(
            dataSpec, model: try GradFeatCLI.plugins.models.entry(record.model), seed: record.seed,
            plugins: GradFeatCLI.plugins, quiet: quiet)
        for (role, images, split) in [("train", loaded.train, loaded.trainSplit), ("test", loaded.test, loaded.testSplit)] {
            let cached = try ActivationCacheReader(run.activationCache(role)).producer
            let producer = try ActivationCacheFile.Producer(network: base, layer: layout.split, split: split, images: images)
            guard producer.source == cached.source else {
                throw GradFeatError.invalidConfiguration(
                    "the \(role) images of \(record.dataset) read now (\(producer.source)) are not those "
                        + "\(run.activationCache(role).path) was computed from (\(cached.source)): the data set changed "
                        + "since the run; --html needs the same images")
            }
        }
        let shown = min(12, testLabels.count), each = min(8, ranked.k)
        let rows = (0..<shown).map { t in
            AttributionPage.Row(
                test: t, testLabel: testLabels[t],
                helpful: (0..<each).map { (ranked.top[t * ranked.k + $0], ranked.topScores[t * ranked.k + $0]) },
                harmful: (0..<each).map { (ranked.bottom[t * ranked.k + $0], ranked.bottomScores[t * ranked.k + $0]) })
        }
        let page = AttributionPage(title: "Leave-one-out attribution of \(extractor) in \(run.url.path)",
                                   classNames: loaded.classNames, rows: rows)
        return try page.render(train: loaded.train, test: loaded.test)
    }
}

/// The k largest and k smallest scores of each row, with their columns.
struct Ranking {
    let k: Int
    var top: [Int] = [], topScores: [Float] = [], bottom: [Int] = [], bottomScores: [Float] = []

    init(scores: [Double], rows: Int, columns: Int, k: Int) {
        self.k = k
        for row in 0..<rows {
            let values = scores[(row * columns)..<((row + 1) * columns)]
            // Ties broken by the lower index, so the lists are deterministic.
            let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
            for column in order.prefix(k) {
                top.append(column - row * columns)
                topScores.append(Float(values[column]))
            }
            for column in order.suffix(k).reversed() {
                bottom.append(column - row * columns)
                bottomScores.append(Float(values[column]))
            }
        }
    }
}
