// The solvers against the paper's optimiser on real data (docs/SOLVERS.md): the four models fitted by Adam on
// cross-entropy (the paper), Adam on MSE, conjugate gradient on MSE and L-BFGS on cross-entropy, each with its test
// accuracy, final full-batch objective, wall time, passes over the training set, and the time it took to reach
// the accuracy Adam on cross-entropy ends at; then the cost of one CG iteration against one epoch of Adam, measured
// side by side in this process.
//
//     swift run -c release SolverBench [--dataset fashion-mnist] [--model bigan-small] [--weights W.h5]
//         [--pretrain-iterations 400] [--train-size N] [--test-size N] [--adam-iterations 1500]
//         [--solver-iterations 100] [--wd-ce 1e-6] [--wd-mse 1e-4] [--data-dir DIR] [--output DIR]
//         [--settings adam-ce,adam-mse,cg-mse,lbfgs-ce]
//
// Without --weights the base network is pre-trained here by rotation prediction (no labels). Writes
// OUTPUT/solvers.md and OUTPUT/solvers.csv (default OUTPUT: runs/solver-bench). With --settings only those settings
// run; the rows of the other settings already in OUTPUT/solvers.csv are kept (a long table measured in parts, with
// the same options), and Adam-on-CE's accuracies there serve the last column.
import Foundation
import GradFeat
import GradFeatLogging
import Layers
import Tensor

GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
func number<T: LosslessStringConvertible>(_ name: String, _ fallback: T) throws -> T {
    guard let text = option(name) else { return fallback }
    guard let value = T(text) else { throw GradFeatError.invalidConfiguration("\(name) \(text): not a number") }
    return value
}

/// Seconds of one CG iteration (a Gauss–Newton product over the training set) and of one epoch of Adam steps.
func iterationCosts(_ extractor: any FeatureExtractor, train: InMemoryBatches, batchSize: Int) throws
    -> (cg: Double, adamEpoch: Double)?
{
    func measure<E: AffineInParameters>(_ model: E) throws -> (cg: Double, adamEpoch: Double) {
        let objective = FullBatchObjective(data: train, loss: OneHotMeanSquaredError(), weightDecay: 1e-4)
        let direction = ParameterVector(model.parameters.map { .zeros(like: $0) })
        var clock = Date()
        _ = try objective.gaussNewtonProduct(model, direction)
        let cg = Date().timeIntervalSince(clock)
        var stepped = model
        var optimizer: any Optimizer = Adam(learningRate: 1e-4)
        let order = BatchOrder(count: train.count, batchSize: batchSize, seed: 0)
        clock = Date()
        for iteration in 0..<order.batchesPerEpoch {
            let (inputs, targets) = try train.batch(order.indices(iteration: iteration))
            _ = try Trainer.step(
                &stepped, inputs: inputs, targets: targets, loss: SoftmaxCrossEntropy(),
                optimizer: &optimizer, clipNorm: nil, mode: .training(seed: 0), iteration: iteration)
        }
        return (cg, Date().timeIntervalSince(clock))
    }
    guard let affine = extractor as? any AffineInParameters else { return nil }
    return try measure(affine)
}

/// A measured row, on standard error: unbuffered, so it reaches a log as it is measured.
func report(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
do {
    let output = URL(fileURLWithPath: option("--output") ?? "runs/solver-bench")
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    let modelName = option("--model") ?? "bigan-small"
    let adamIterations: Int = try number("--adam-iterations", 1500)
    let solverIterations: Int = try number("--solver-iterations", 100)
    let wdCE: Float = try number("--wd-ce", 1e-6), wdMSE: Float = try number("--wd-mse", 1e-4)
    let plugins = Plugins.shared
    let dataSpec = DataSpec(
        dataset: option("--dataset") ?? "fashion-mnist", dataDirectory: option("--data-dir"),
        trainSize: try number("--train-size", 0), testSize: try number("--test-size", 0))
    let modelEntry = try plugins.models.entry(modelName)
    let data = try ExperimentData.load(dataSpec, model: modelEntry, seed: 0, plugins: plugins)
    var network = try ModelZoo.make(
        modelName, classes: data.train.classCount, inputChannels: data.train.imageShape[0],
        inputSize: data.train.imageShape[1], seed: 0, weights: option("--weights").map { URL(fileURLWithPath: $0) })
    var weightsNote = option("--weights") ?? ""
    if option("--weights") == nil {
        let iterations: Int = try number("--pretrain-iterations", 400)
        var configuration = TrainingConfiguration.paper(iterations: iterations)
        configuration.batchSize = 128
        network.backbone = try Pretraining.rotation(network, images: data.train, configuration: configuration)
            .network.backbone
        weightsNote = "pre-trained here by rotation prediction, \(iterations) iterations, batch 128"
    }
    let (split, linearize) = try ModelZoo.defaults(for: modelName)
    let train = try ActivationCache.compute(network: network, splitAt: split, data: data.train, label: "cache train")
    let test = try ActivationCache.compute(network: network, splitAt: split, data: data.test, label: "cache test")

    struct Setting {
        var name: String
        var key: String
        var configuration: TrainingConfiguration
        var extractors: [String]
    }
    func configuration(
        _ solver: TrainingConfiguration.SolverKind, _ loss: TrainingConfiguration.LossKind,
        wd: Float
    ) -> TrainingConfiguration {
        var c = TrainingConfiguration.paper(iterations: solver == .minibatch ? adamIterations : solverIterations)
        (c.solver, c.loss, c.weightDecay) = (solver, loss, wd)
        c.evaluateEvery = max(1, c.iterations / 20)
        return c
    }
    let all = ["activation", "gradient", "gradfeat", "finetune"]
    let allSettings = [
        Setting(
            name: "Adam, CE", key: "adam-ce", configuration: configuration(.minibatch, .ce, wd: wdCE), extractors: all),
        Setting(
            name: "Adam, MSE", key: "adam-mse", configuration: configuration(.minibatch, .mse, wd: wdMSE),
            extractors: all),
        Setting(
            name: "CG, MSE", key: "cg-mse", configuration: configuration(.cg, .mse, wd: wdMSE),
            extractors: Array(all.prefix(3))),
        Setting(
            name: "L-BFGS, CE", key: "lbfgs-ce", configuration: configuration(.lbfgs, .ce, wd: wdCE), extractors: all),
    ]
    let chosen = option("--settings").map { $0.split(separator: ",").map(String.init) } ?? allSettings.map(\.key)
    if let unknown = chosen.first(where: { key in !allSettings.contains { $0.key == key } }) {
        throw GradFeatError.invalidConfiguration(
            "--settings \(unknown): not a setting (\(allSettings.map(\.key).joined(separator: ", ")))")
    }
    let settings = allSettings.filter { chosen.contains($0.key) }

    let header = [
        "# Solvers on \(data.description)", "",
        "- \(modelName), \(weightsNote); θ1 = layers before \(split), θ2 = \(linearize.joined(separator: ", ")); features standardised",
        "- Adam: the paper's preset (β1 0.5, lr 1e-3 halved every 20K, batch 64), \(adamIterations) iterations; CG and L-BFGS: at most \(solverIterations) iterations, tol 1e-6, full batch",
        "- λ: \(wdCE) with cross-entropy, \(wdMSE) with MSE; objectives: the full-batch loss + λ/2‖w‖² at the final parameters (in evaluation mode)",
        "- each setting's gradient models use its own activation model's head as ω̄; fine-tuning is not linear, so CG does not apply",
        "- command: SolverBench \(arguments.joined(separator: " "))", "",
    ]
    /// Writes what is measured so far, so a run cut short still leaves its finished rows; returns the Markdown.
    @discardableResult
    func save(_ lines: [String], _ csv: [String]) throws -> String {
        let markdown = (header + lines).joined(separator: "\n") + "\n"
        try markdown.write(to: output.appendingPathComponent("solvers.md"), atomically: true, encoding: .utf8)
        try (csv.joined(separator: "\n") + "\n").write(
            to: output.appendingPathComponent("solvers.csv"), atomically: true, encoding: .utf8)
        return markdown
    }
    var lines = [
        "| solver, loss | model | test accuracy (%) | final objective | wall time (s) | passes over the data | time to Adam-CE's accuracy (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    var csv = ["setting,model,test_accuracy,objective,seconds,passes,seconds_to_adam_ce_accuracy,iterations"]
    var adamAccuracy: [String: Double] = [:]
    /// A CSV line: the setting name quoted (it holds a comma), the other fields as they are.
    func csvLine(_ fields: [String]) -> String { (["\"\(fields[0])\""] + fields.dropFirst()).joined(separator: ",") }
    /// One table row from its CSV fields (the only place a row is formatted).
    func markdownRow(_ f: [String]) -> String {
        let number = { (i: Int) in Double(f[i]) ?? .nan }
        return String(
            format: "| %@ | %@ | %.2f | %.5g | %.1f | %.1f | %@ |", f[0], f[1], 100 * number(2), number(3),
            number(4), number(5), f[6].isEmpty ? "not reached" : String(format: "%.1f", number(6)))
    }
    // Rows of the settings not run now, kept from an earlier run into the same folder.
    let previous = output.appendingPathComponent("solvers.csv")
    if option("--settings") != nil, let text = try? String(contentsOf: previous, encoding: .utf8) {
        for line in text.split(separator: "\n").dropFirst() {
            // The setting name holds a comma ("Adam, CE"): quoted by this version, bare in files of older ones.
            let fields: [String]
            if line.hasPrefix("\""), let close = line.dropFirst().firstIndex(of: "\"") {
                let rest = line[line.index(after: close)...].split(separator: ",", omittingEmptySubsequences: false)
                fields = [String(line[line.index(after: line.startIndex)..<close])] + rest.dropFirst().map(String.init)
            } else {
                let parts = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                fields = parts.count == 9 ? [parts[0] + "," + parts[1]] + parts[2...] : []
            }
            guard fields.count == 8 else { continue }
            guard !settings.contains(where: { $0.name == fields[0] }) else { continue }
            if fields[0] == "Adam, CE" { adamAccuracy[fields[1]] = Double(fields[2]) }
            csv.append(csvLine(fields))
            lines.append(markdownRow(fields))
            report("kept from \(previous.path): " + lines.last!)
        }
    }
    for setting in settings {
        let comparison = Comparison(
            network: network, split: split, linearize: linearize, extractors: setting.extractors,
            configurations: ["activation": setting.configuration])
        let loss = try setting.configuration.makeLoss(for: train)
        let rows = try comparison.run(train: train, test: test, loss: loss)
        for row in rows {
            let accuracy = row.metrics.accuracy ?? .nan
            if setting.name == "Adam, CE" { adamAccuracy[row.extractor] = accuracy }
            let objective = FullBatchObjective(
                data: train, loss: loss, weightDecay: Double(setting.configuration.weightDecay))
            let value = try row.trained.map { try objective.value(of: $0) } ?? .nan
            let iterations = row.history.last?.iteration ?? 0
            let passes =
                row.history.last?.passes.map(Double.init)
                ?? Double(iterations * setting.configuration.batchSize) / Double(train.count)
            let reached = adamAccuracy[row.extractor].flatMap { target in
                row.history.first { ($0.testMetric ?? -1) >= target - 1e-12 }?.seconds
            }
            let fields = [
                setting.name, row.extractor, "\(accuracy)", "\(value)", "\(row.seconds)", "\(passes)",
                reached.map { String($0) } ?? "", "\(iterations)",
            ]
            csv.append(csvLine(fields))
            lines.append(markdownRow(fields))
            report(lines.last!)
            try save(lines, csv)
        }
    }

    var costs = ["", "| model | one CG iteration (s) | one epoch of Adam, batch 64 (s) | ratio |", "|---|---|---|---|"]
    var context = ExtractorContext(
        network: try network.standardizingFeatures(using: train, splitAt: split),
        split: split, linearize: linearize, classes: train.classCount)
    context.omegaBar = context.network.head
    for name in ["activation", "gradient", "gradfeat"] {
        let extractor = try plugins.extractors.make(name, context: context)
        if let cost = try iterationCosts(extractor, train: train, batchSize: 64) {
            costs.append(
                String(format: "| %@ | %.2f | %.2f | %.2f |", name, cost.cg, cost.adamEpoch, cost.cg / cost.adamEpoch))
            report(costs.last!)
        }
    }
    let markdown = try save(lines + costs, csv)
    print("\n" + markdown + "\nwrote \(output.path)/solvers.md, solvers.csv")
} catch {
    report("SolverBench: \(error)")
    exit(1)
}
