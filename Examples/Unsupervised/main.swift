// Unsupervised pre-training, then GradFeat (Mu, Liang, Li, ICLR 2020, Table 2's unsupervised setting at this
// machine's scale): the paper's CIFAR encoder is trained as an autoencoder (a linear decoder reconstructs the image
// from f(x)) on CIFAR-10 training images without labels; the four models then learn CIFAR-10 classification.
//
//     swift run -c release Unsupervised --data-dir ../shared/datasets [--pretrain-iterations 2000] [--niter 3000]
import ArgumentParser
import GradFeat
import GradFeatLogging

@main
struct Unsupervised: ParsableCommand {
    @Option var dataDir: String?
    @Option var model = BiganCIFAR.smallName
    @Option var pretrainIterations = 2_000
    @Option var niter = 3_000
    @Option var trainSize = 0
    @Option var seed: UInt64 = 0
    @Option var output = "runs/unsupervised"

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        let spec = ExperimentSpec(
            data: DataSpec(dataset: "cifar10", dataDirectory: dataDir, trainSize: trainSize), model: model,
            split: "conv5", linearize: ["conv5"], pretrain: .autoencoder, pretrainIterations: pretrainIterations,
            training: .paper(iterations: niter, seed: seed), output: output,
            title: "Unsupervised \(model) (autoencoder) → CIFAR-10")
        print(try Experiment(spec).run().summary)
    }
}
