// Unsupervised pre-training, then GradFeat (Mu, Liang, Li, ICLR 2020, Table 2's unsupervised setting at this
// machine's scale): the paper's CIFAR encoder is trained as the encoder of a BiGAN/ALI (with a generator and a joint
// discriminator, docs/BIGAN.md) on CIFAR-10 training images without labels; the four models then learn CIFAR-10
// classification. The run folder holds the BiGAN's sample grids and loss curves; --resume continues it.
//
//     swift run -c release Unsupervised --data-dir ../shared/datasets [--pretrain-iterations 1500] [--niter 3000]
//         [--resume]
import ArgumentParser
import GradFeat
import GradFeatLogging

@main
struct Unsupervised: ParsableCommand {
    @Option var dataDir: String?
    @Option var model = BiganCIFAR.smallName
    @Option var pretrainIterations = 1_500
    @Option var niter = 3_000
    @Option var trainSize = 0
    @Option var seed: UInt64 = 0
    @Option var output = "runs/unsupervised"
    @Flag(help: "Continue an interrupted run: its BiGAN pre-training and its models.") var resume = false

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        let spec = ExperimentSpec(
            data: DataSpec(dataset: "cifar10", dataDirectory: dataDir, trainSize: trainSize), model: model,
            split: "conv5", linearize: ["conv5"], pretrain: .bigan, pretrainIterations: pretrainIterations,
            pretrainBatchSize: 64, training: .paper(iterations: niter, seed: seed), output: output, resume: resume,
            title: "Unsupervised \(model) (BiGAN) → CIFAR-10")
        print(try Experiment(spec).run().summary)
    }
}
