import ArgumentParser
import Foundation
import GradFeat
import HDF5
import Layers
import Tensor

/// Which training images made a prediction: leave-one-out scores of a run's linear model, exact for the squared
/// error, one Newton step for cross-entropy.
struct AttributeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute",
        abstract: "Score every training image's effect on test predictions of a run's linear model (leave-one-out).",
        discussion: """
            For test example t and training example j the score is the true-class logit of t under the model \
            fitted on all training examples minus that under the model fitted without j (its term dropped, the \
            factor 1/N kept): positive means j helps. It is exact — no retraining — for a model trained with \
            --loss mse to the optimum (--solver cg) that gives its Jacobian rows: the activation model, \
            explicit-gradient for small θ2, and projected-gradient (the gradient model in a K-dimensional subspace \
            of θ2). For cross-entropy models it is one Newton step (an approximation). The implicit gradient models \
            (gradient, gradfeat) are attributed through rows projected to --projection K dimensions, an \
            approximation as in TRAK (docs/ATTRIBUTION.md).

            Output (format gradfeat-attribution, version 1): /scores float32 [n_test, n_train] (when it fits \
            --memory-budget), /top_indices int64 and /top_scores float32 [n_test, k] (the most helpful training \
            examples, by decreasing score), /bottom_indices and /bottom_scores (the most harmful, by increasing \
            score), /test_indices and /test_labels [n_test], /train_labels [n_train]; attributes: the run, the \
            extractor, the method, whether it is exact, λ, the projection, the solver's final relative residual \
            and the relative gradient norm at the solution.
            """)

    @Option(name: .customLong("run"), help: "A run folder written by train.")
    var runFolder: String

    @Option(
        help:
            "The trained extractor to attribute (activation, explicit-gradient, projected-gradient; gradient or gradfeat with --projection).",
        completion: RegistryCompletion.extractors)
    var extractor = "activation"

    @Option(help: "Where to write the scores (HDF5).")
    var output: String

    @Option(help: "Attribute the first n test examples, in the run's test-set order.")
    var testSize = 100

    @Option(
        help:
            "How many most helpful and most harmful training examples to list per test example (default 10). Give it to attribute beyond the memory budget: only the lists are kept then."
    )
    var topK: Int?

    @Option(
        help:
            "Attribute an implicit gradient model (gradient, gradfeat) through its θ2 rows projected to K dimensions (approximate)."
    )
    var projection: Int?

    @Option(help: "The seed of --projection's random matrices.")
    var projectionSeed: UInt64 = 0

    @Option(
        help:
            "The memory the scores and the system may take, in binary units (512MB, 2GB; default half of physical memory)."
    )
    var memoryBudget: String?

    @Option(
        help: "Also write an HTML page showing, for the first test images, the training images that help and hurt most."
    )
    var html: String?

    @Flag(help: "Print no progress.")
    var quiet = false

    static let defaultTopK = 10

    func validate() throws {
        guard testSize > 0 else { throw ValidationError("--test-size must be positive, got \(testSize)") }
        if let topK, topK <= 0 { throw ValidationError("--top-k must be positive, got \(topK)") }
        if let projection, projection <= 0 { throw ValidationError("--projection must be positive, got \(projection)") }
        if let memoryBudget { _ = try MemoryBudget(parsing: memoryBudget) }
    }

    @OptionGroup var process: ProcessOptions

    func run() throws {
        try process.apply()
        let clock = Date()
        let budget = try memoryBudget.map { try MemoryBudget(parsing: $0) } ?? .default
        let run = RunDirectory(URL(fileURLWithPath: runFolder))
        let record = try run.record()
        let layout = try run.layout(model: record.model, record: record)
        // Refuse a model no score is defined for before anything is read or computed.
        let checkpoint = run.checkpoint(extractor)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw RunDirectory.Error.missingFile(
                path: checkpoint.path,
                fix: "this run trained \(record.extractors.joined(separator: ", ")); pass one of them with --extractor")
        }
        let configuration = try CheckpointFile.load(checkpoint).state.configuration
        guard let attributedLoss = AttributedLoss(configuration.loss, targetScale: configuration.targetScale) else {
            throw GradFeatError.invalidConfiguration(
                "\(checkpoint.path): '\(extractor)' was trained with --loss \(configuration.loss?.rawValue ?? "ce") "
                    + "(multi-label); attribution scores one true class per sample: train with --loss mse (exact) or ce"
            )
        }
        let (base, train, test, _) = try runActivations(run: run, record: record, layout: layout, quiet: quiet)
        let trained = try run.rebuild(
            checkpoint: checkpoint, network: try run.featureNetwork(base, layout: layout),
            layout: layout, record: record, fallbackOmegaBar: base.head, registry: GradFeatCLI.plugins.extractors)
        guard case .classes = try train.batch(Array(0..<min(1, train.count))).targets else {
            throw GradFeatError.invalidConfiguration(
                "attribution needs one label per sample; \(record.dataset) is multi-label")
        }
        let loss = try configuration.makeLoss(for: train)
        let testCount = min(testSize, test.count)
        let testSubset = SubsetBatches(test, indices: Array(0..<testCount))
        // λ as solved: the checkpoint's (chosen on held-out data under --wd auto), else the configuration's.
        let lambda = trained.state.solverState?.numbers["lambda"] ?? Double(configuration.weightDecay)
        let rows = try Self.rows(
            of: trained.extractor, name: extractor, projection: projection, seed: projectionSeed,
            train: train, test: testSubset)
        let exact = attributedLoss.isExact && projection == nil
        let attribution = LeaveOneOutAttribution(weightDecay: lambda)
        // The whole matrix in Float64 while computed and its Float32 copy for the file, when it fits the budget.
        let scoreBytes = testCount * train.count * 12
        let requestedTopK = topK
        func keepsScores(_ plan: LeaveOneOutAttribution.Plan) throws -> Bool {
            if budget.admits(plan.workingBytes + scoreBytes) { return true }
            guard requestedTopK != nil else {
                throw GradFeatError.invalidConfiguration(
                    "the scores of \(testCount) × \(train.count) pairs and the \(plan.order) × \(plan.order) system take "
                        + "\(MemoryBudget.format(plan.workingBytes + scoreBytes)), over --memory-budget \(budget): pass "
                        + "--top-k k to keep only each test example's k most helpful and most harmful training "
                        + "examples, use a smaller --test-size, or raise --memory-budget")
            }
            guard budget.admits(plan.workingBytes) else {
                throw GradFeatError.invalidConfiguration(
                    "attribution needs \(MemoryBudget.format(plan.workingBytes)) for its \(plan.order) × \(plan.order) "
                        + "system and one chunk, over --memory-budget \(budget): raise the budget"
                        + (projection.map { ", or project to fewer dimensions than \($0)" } ?? ""))
            }
            return false
        }
        // One reporter a pass, started with its pass so that its rate and ETA are the pass's own.
        var progress: [Int: ProgressReporter] = [:]
        func report(pass: Int, done: Int) {
            let reporter =
                progress[pass]
                ?? ProgressReporter(
                    pass == 1 ? "attribute: system" : "attribute: scores", total: train.count, unit: "img", quiet: quiet
                )
            progress[pass] = reporter
            reporter.update(done)
        }
        let result = try attribution.attribute(
            train: rows.train, test: rows.test, classes: train.classCount, loss: attributedLoss,
            topK: requestedTopK ?? Self.defaultTopK, keepScores: keepsScores
        ) { pass, done in report(pass: pass, done: done) }
        // How close the model is to the optimum the step starts from: ‖∇L(w)‖ / ‖∇L(0)‖.
        let gradientRatio = try Self.relativeGradientNorm(trained.extractor, data: train, loss: loss, lambda: lambda)
        if gradientRatio > 1e-3 {
            note(
                String(
                    format: "attribute: the model is not at the optimum (relative gradient norm %.2g): the scores "
                        + "are the leave-one-out step from these parameters, not the refit; solve further (--solver cg or "
                        + "lbfgs, a larger --niter, or --resume --niter N)", gradientRatio))
        }
        let ranked = result.ranking
        let cgResidual = trained.state.solverState?.numbers["residual"]
        // The page is made (its images read and checked) before anything is written, so a refusal leaves no file.
        let page = try html.map { _ in
            try makePage(
                run: run, record: record, layout: layout, base: base, ranked: ranked, testLabels: result.testLabels)
        }
        let method = Self.method(loss: attributedLoss, projection: projection)
        try HDF5File.writeAtomically(to: URL(fileURLWithPath: output), format: "gradfeat-attribution", version: 1) {
            file in
            try file.setAttribute("run", run.url.path)
            try file.setAttribute("extractor", extractor)
            try file.setAttribute("method", method)
            try file.setAttribute("exact", Int64(exact ? 1 : 0))
            try file.setAttribute("loss", configuration.loss?.rawValue ?? "ce")
            try file.setAttribute("system", "\(result.plan.form.rawValue), order \(result.plan.order)")
            try file.setAttribute("weight_decay", lambda)
            try file.setAttribute("target_scale", Double(configuration.targetScale))
            try file.setAttribute("relative_gradient_norm", gradientRatio)
            if let projection {
                try file.setAttribute("projection_dimension", Int64(projection))
                try file.setAttribute("projection_seed", String(projectionSeed)) // text: a UInt64 need not fit int64
            }
            if let cgResidual { try file.setAttribute("solver_relative_residual", cgResidual) }
            if let scores = result.scores {
                try file.createDataset("scores", values: scores.map(Float.init), shape: [testCount, train.count])
            }
            let k = ranked.length
            try file.createDataset("top_indices", values: ranked.top.map(Int64.init), shape: [testCount, k])
            try file.createDataset("top_scores", values: ranked.topScores.map(Float.init), shape: [testCount, k])
            try file.createDataset("bottom_indices", values: ranked.bottom.map(Int64.init), shape: [testCount, k])
            try file.createDataset("bottom_scores", values: ranked.bottomScores.map(Float.init), shape: [testCount, k])
            try file.createDataset("test_indices", values: (0..<testCount).map(Int64.init))
            try file.createDataset("test_labels", values: result.testLabels.map(Int64.init))
            try file.createDataset("train_labels", values: result.trainLabels.map(Int64.init))
        }
        if let html, let page { try writeAtomically(page, to: URL(fileURLWithPath: html)) }
        let residualText = cgResidual.map { String(format: "solver residual %.2g, ", $0) } ?? ""
        print(
            String(
                format:
                    "attributed %d test examples to %d training examples (%@, %@relative gradient norm %.2g) in %.1f s → %@%@",
                testCount, train.count, exact ? "exact" : "approximate", residualText, gradientRatio,
                Date().timeIntervalSince(clock), output,
                result.scores != nil
                    ? "" : String(format: " (no /scores: %@ is over --memory-budget)", MemoryBudget.format(scoreBytes)))
        )
        for t in 0..<min(3, testCount) {
            let helpers = (0..<min(3, ranked.length)).map { i in
                String(
                    format: "#%d (label %d, %+.3g)", ranked.top[t * ranked.length + i],
                    result.trainLabels[ranked.top[t * ranked.length + i]], ranked.topScores[t * ranked.length + i])
            }
            print("  test \(t) (label \(result.testLabels[t])): most helpful \(helpers.joined(separator: ", "))")
        }
    }

    /// The rows of the training and test data under `model`: exact, or projected for an implicit gradient model.
    static func rows(
        of model: any FeatureExtractor, name: String, projection: Int?, seed: UInt64,
        train: any BatchSource, test: any BatchSource
    ) throws -> (train: AttributionData, test: AttributionData) {
        func exact<M: JacobianRowsProvider>(_ model: M) -> (AttributionData, AttributionData) {
            (AttributionData(model: model, data: train), AttributionData(model: model, data: test))
        }
        func projected<M: ProjectableJacobianRows>(_ model: M, _ k: Int) throws -> (AttributionData, AttributionData) {
            let p = try KroneckerProjection(dimension: k, top: model.linearizedTop, seed: seed)
            return (
                AttributionData(model: model, projection: p, data: train),
                AttributionData(model: model, projection: p, data: test)
            )
        }
        switch (model, projection) {
        case let (model as any JacobianRowsProvider, nil):
            return exact(model)
        case (is any JacobianRowsProvider, .some):
            throw GradFeatError.invalidConfiguration(
                "'\(name)' gives its exact Jacobian rows: drop --projection (to attribute the gradient model in a "
                    + "K-dimensional subspace exactly, train --extractor projected-gradient)")
        case let (model as any ProjectableJacobianRows, .some(k)):
            return try projected(model, k)
        case (is any ProjectableJacobianRows, nil):
            throw GradFeatError.invalidConfiguration(
                "'\(name)' has Jacobian rows as wide as θ2, too wide to factor: pass --projection K (for example "
                    + "--projection 2048) for approximate scores through projected rows, or train --extractor "
                    + "projected-gradient --extractor-option projected-gradient.dimension=K for exact ones")
        default:
            throw GradFeatError.invalidConfiguration(
                "'\(name)' is not linear in its parameters with rows to give, so no leave-one-out score is defined "
                    + "for it: attribute activation, explicit-gradient, projected-gradient, or gradient/gradfeat with "
                    + "--projection K")
        }
    }

    /// `‖∇L(w)‖ / ‖∇L(0)‖` over the training set, for a model linear in its parameters (else 0: not measured).
    static func relativeGradientNorm(
        _ model: any FeatureExtractor, data: any BatchSource, loss: any Loss,
        lambda: Double
    ) throws -> Double {
        func ratio<M: LinearInParameters>(_ model: M) throws -> Double {
            let objective = FullBatchObjective(data: data, loss: loss, weightDecay: lambda)
            let atSolution = try objective.valueAndGradient(model, at: ParameterVector(model.parameters)).gradient
            let atZero = try objective.valueAndGradient(model, at: .zeros(like: model.parameters)).gradient
            return atSolution.norm / max(atZero.norm, .leastNormalMagnitude)
        }
        guard let linear = model as? any LinearInParameters else { return 0 }
        return try ratio(linear)
    }

    /// The file's `method` attribute.
    static func method(loss: AttributedLoss, projection: Int?) -> String {
        let step =
            loss.isExact
            ? "exact leave-one-out of the MSE ridge optimum (Newton step, Woodbury identity)"
            : "leave-one-out by one Newton step with the cross-entropy Hessian (influence function with leverage; approximate)"
        return projection.map { step + ", through θ2 rows projected to \($0) dimensions (approximate)" } ?? step
    }

    /// The HTML page of the first test images (at most 12, 8 training images each way), with the images read
    /// again from the run's data set and checked to be those its activations were computed from.
    func makePage(
        run: RunDirectory, record: RunRecord, layout: RunDirectory.Layout, base: Network,
        ranked: AttributionRanking, testLabels: [Int]
    ) throws -> String {
        guard let dataSpec = record.experiment?.data else {
            throw GradFeatError.invalidConfiguration(
                "\(run.url.path)/config.json does not record its data set in full (an older run): --html cannot "
                    + "find its images; train the run again to use --html")
        }
        let loaded = try ExperimentData.load(
            dataSpec, model: try GradFeatCLI.plugins.models.entry(record.model), seed: record.seed,
            plugins: GradFeatCLI.plugins, quiet: quiet, budget: .default)
        for (role, images, split) in [
            ("train", loaded.train, loaded.trainSplit), ("test", loaded.test, loaded.testSplit),
        ] {
            let cached = try ActivationCacheReader(run.activationCache(role)).producer
            let producer = try ActivationCacheFile.Producer(
                network: base, layer: layout.split, split: split, images: images)
            guard producer.source == cached.source else {
                throw GradFeatError.invalidConfiguration(
                    "the \(role) images of \(record.dataset) read now (\(producer.source)) are not those "
                        + "\(run.activationCache(role).path) was computed from (\(cached.source)): the data set changed "
                        + "since the run; --html needs the same images")
            }
        }
        let shown = min(12, testLabels.count), each = min(8, ranked.length), k = ranked.length
        let rows = (0..<shown).map { t in
            AttributionPage.Row(
                test: t, testLabel: testLabels[t],
                helpful: (0..<each).map { (ranked.top[t * k + $0], Float(ranked.topScores[t * k + $0])) },
                harmful: (0..<each).map { (ranked.bottom[t * k + $0], Float(ranked.bottomScores[t * k + $0])) })
        }
        let page = AttributionPage(
            title: "Leave-one-out attribution of \(extractor) in \(run.url.path)",
            classNames: loaded.classNames, rows: rows)
        return try page.render(train: loaded.train, test: loaded.test)
    }
}
