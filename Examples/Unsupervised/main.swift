// Unsupervised pre-training, then GradFeat (Mu, Liang, Li, ICLR 2020, Table 2's unsupervised setting at this
// machine's scale): the paper's CIFAR encoder is trained as an autoencoder (a linear decoder reconstructs the image
// from f(x)) on CIFAR-10 training images without labels; the four models then learn CIFAR-10 classification.
//
//     swift run -c release Unsupervised --data-dir ../shared/datasets [--pretrain-iterations 2000] [--niter 3000]
import ArgumentParser
import Foundation
import GradFeat
import Layers

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
        var train = try ImageBatches(try DataCatalog.load("cifar10", split: "train", dataDirectory: dataDir), scaling: .unit)
        let test = try ImageBatches(try DataCatalog.load("cifar10", split: "test", dataDirectory: dataDir), scaling: .unit)
        if trainSize > 0 { train = train.subset(Array(0..<trainSize)) }

        var network = try ModelZoo.make(model, classes: 10, seed: seed)
        var pretraining = TrainingConfiguration.paper(iterations: pretrainIterations, seed: seed)
        pretraining.batchSize = 128
        network.backbone = try Pretraining.autoencoder(network, images: train, configuration: pretraining).network.backbone

        var configuration = TrainingConfiguration.paper(iterations: niter, seed: seed)
        configuration.evaluateEvery = max(1, niter / 10)
        let rows = try Comparison(
            network: network, split: "conv5", linearize: ["conv5"], configurations: ["activation": configuration]
        ).run(images: train, test: test, loss: SoftmaxCrossEntropy())
        let report = ResultsReport(
            title: "Unsupervised \(model) (autoencoder) → CIFAR-10", rows: rows,
            notes: ["\(train.count) train / \(test.count) test images; θ2 = conv5",
                    "autoencoder: \(pretrainIterations) iterations, batch 128; models: \(niter) iterations; seed \(seed)"],
            configurations: ["pretraining": pretraining, "models": configuration])
        try report.write(to: URL(fileURLWithPath: output))
        print(report.markdown)
    }
}
