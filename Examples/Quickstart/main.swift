// GradFeat in one page: pre-train a base network without labels, cache its bottom activations, and compare the
// activation, gradient, full GradFeat and fine-tuning models (Mu, Liang, Li, ICLR 2020).
//
//     swift run -c release Quickstart [--dataset fashion-mnist] [--train-size 20000]
//     gradfeat eval --run runs/quickstart
import ArgumentParser
import GradFeat
import GradFeatLogging

@main
struct Quickstart: ParsableCommand {
    @Option var dataset = "fashion-mnist"
    @Option var dataDir: String?
    @Option var trainSize = 20_000
    @Option var niter = 1_000
    @Option var seed: UInt64 = 0
    @Option var output = "runs/quickstart"

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        // The paper's CIFAR encoder at half width, pre-trained here by rotation prediction (no labels);
        // θ1 = conv1…conv4 (frozen, its activations cached once), θ2 = conv5 (linearized).
        let spec = ExperimentSpec(
            data: DataSpec(dataset: dataset, dataDirectory: dataDir, trainSize: trainSize),
            model: BiganCIFAR.smallName, split: "conv5", linearize: ["conv5"], pretrain: .rotation,
            training: .paper(iterations: niter, seed: seed), output: output,
            title: "GradFeat quickstart on \(dataset)")
        print(try Experiment(spec).run().summary)
    }
}
