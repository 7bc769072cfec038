// Solve the linear model instead of descending it (Mu, Liang, Li, ICLR 2020; the MSE loss of LQF, Achille et al.,
// CVPR 2021): the activation, gradient and full GradFeat models are linear in their parameters, so their training
// problems are convex. This example fits them three ways on the same pre-trained network — Adam on cross-entropy
// (the paper), conjugate gradient on the quadratic MSE objective to its optimum, and L-BFGS on cross-entropy —
// with fine-tuning (Adam) as the reference, and prints accuracy, passes over the data and time side by side.
//
//     swift run -c release Solvers [--dataset fashion-mnist] [--train-size 10000] [--niter 1000] [--solver-niter 30]
//     gradfeat report runs/solvers/adam-ce runs/solvers/cg-mse runs/solvers/lbfgs-ce
import ArgumentParser
import Foundation
import GradFeat
import GradFeatLogging

@main
struct Solvers: ParsableCommand {
    @Option var dataset = "fashion-mnist"
    @Option var dataDir: String?
    @Option var trainSize = 10_000
    @Option var testSize = 5_000
    @Option(help: "Adam iterations (the paper's optimiser) for the cross-entropy baseline and fine-tuning.")
    var niter = 1_000
    @Option(help: "At most this many CG or L-BFGS iterations (each is about one pass over the training set).")
    var solverNiter = 30
    @Option(help: "λ of the MSE objective: CG needs λ > 0 (the paper's 1e-6 leaves the system near-singular).")
    var wdMse: Float = 1e-4
    @Option var pretrainIterations = 400
    @Option var seed: UInt64 = 0
    @Option var output = "runs/solvers"

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        let data = DataSpec(dataset: dataset, dataDirectory: dataDir, trainSize: trainSize, testSize: testSize)
        // 1. One base network for every setting: bigan-small pre-trained by rotation prediction (no labels).
        let source = ExperimentSpec(
            data: data, model: BiganCIFAR.smallName, pretrain: .rotation, pretrainIterations: pretrainIterations,
            training: .paper(iterations: 0, seed: seed), output: output + "/pretrain")
        guard let weights = try Experiment(source).pretrain()?.path else { return }

        // 2. The same models under each solver, each setting in its own run folder (`eval --run` reads any of them).
        let linear = ["activation", "gradient", "gradfeat"].map { ExtractorSpec($0) }
        var cg = TrainingConfiguration.paper(iterations: solverNiter, seed: seed)
        (cg.solver, cg.loss, cg.weightDecay) = (.cg, .mse, wdMse)
        var lbfgs = TrainingConfiguration.paper(iterations: solverNiter, seed: seed)
        lbfgs.solver = .lbfgs
        let settings: [(folder: String, title: String, training: TrainingConfiguration, extractors: [ExtractorSpec])] =
            [
                ("adam-ce", "Adam on CE", .paper(iterations: niter, seed: seed), linear + [ExtractorSpec("finetune")]),
                ("cg-mse", "CG on MSE", cg, linear),
                ("lbfgs-ce", "L-BFGS on CE", lbfgs, linear),
            ]
        var lines = [
            "| solver | model | test accuracy (%) | passes over the data | seconds |", "|---|---|---|---|---|",
        ]
        for setting in settings {
            let spec = ExperimentSpec(
                data: data, model: BiganCIFAR.smallName, weights: weights, split: "conv5", linearize: ["conv5"],
                extractors: setting.extractors, training: setting.training, output: output + "/" + setting.folder,
                title: "\(setting.title) on \(dataset)")
            let result = try Experiment(spec).run()
            for row in result.rows {
                // Full-batch solvers count their passes; a mini-batch optimiser's are iterations × batch / N.
                let last = row.history.last
                let passes =
                    last?.passes.map { String($0) }
                    ?? (trainSize > 0
                        ? String(
                            format: "%.1f",
                            Double((last?.iteration ?? 0) * setting.training.batchSize) / Double(trainSize))
                        : "—")
                lines.append(
                    String(
                        format: "| %@ | %@ | %.2f | %@ | %.1f |", setting.title, row.extractor,
                        100 * (row.metrics.accuracy ?? .nan), passes, row.seconds))
            }
        }
        let table = lines.joined(separator: "\n") + "\n"
        try table.write(toFile: output + "/solvers.md", atomically: true, encoding: .utf8)
        print("\n" + table + "\nRun folders: \(output)/adam-ce, cg-mse, lbfgs-ce; this table: \(output)/solvers.md")
    }
}
