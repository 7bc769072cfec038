// Self-supervised pre-training, then GradFeat (Mu, Liang, Li, ICLR 2020, Table 2 setting at this machine's scale):
// the paper's CIFAR encoder learns by rotation prediction (Gidaris et al., 2018) on CIFAR-10 training images
// without labels; the four models then learn CIFAR-10 classification on its cached activations.
//
//     swift run -c release SelfSupervised --data-dir ../shared/datasets [--pretrain-iterations 2000] [--niter 5000]
import ArgumentParser
import GradFeat
import GradFeatLogging

@main
struct SelfSupervised: ParsableCommand {
    @Option(help: "Folder with cifar10/ (the shared copy) or the official binary archive.")
    var dataDir: String?
    @Option(help: "Base network.") var model = BiganCIFAR.name
    @Option(help: "Pre-trained weights (skips pre-training).") var weights: String?
    @Option var pretrainIterations = 2_000
    @Option var niter = 5_000
    @Option var trainSize = 0
    @Option var seed: UInt64 = 0
    @Option var output = "runs/selfsupervised"

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        // Cache right below the linearized layers: the fastest training.
        let linearize = try ModelZoo.defaults(for: model).linearize
        let spec = ExperimentSpec(
            data: DataSpec(dataset: "cifar10", dataDirectory: dataDir, trainSize: trainSize), model: model,
            weights: weights, split: linearize.first, linearize: linearize,
            pretrain: weights == nil ? .rotation : nil, pretrainIterations: pretrainIterations,
            training: .paper(iterations: niter, seed: seed), output: output,
            title: "Self-supervised \(model) (rotation prediction) → CIFAR-10")
        print(try Experiment(spec).run().summary)
    }
}
