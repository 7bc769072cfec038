// Self-supervised pre-training, then GradFeat (Mu, Liang, Li, ICLR 2020, Table 2 setting at this machine's scale):
// the paper's CIFAR encoder learns by rotation prediction (Gidaris et al., 2018) on CIFAR-10 training images
// without labels; the four models then learn CIFAR-10 classification on its cached activations.
//
//     swift run -c release SelfSupervised --data-dir ../shared/datasets [--pretrain-iterations 2000] [--niter 5000]
import ArgumentParser
import Foundation
import GradFeat
import Layers

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
    @Option var output = "runs/self-supervised"

    func run() throws {
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var train = try ImageBatches(try DataCatalog.load("cifar10", split: "train", dataDirectory: dataDir), scaling: .unit)
        let test = try ImageBatches(try DataCatalog.load("cifar10", split: "test", dataDirectory: dataDir), scaling: .unit)
        if trainSize > 0 { train = train.subset(Array(0..<trainSize)) }

        var network = try ModelZoo.make(model, classes: 10, seed: seed)
        var pretraining = TrainingConfiguration.paper(iterations: pretrainIterations, seed: seed)
        pretraining.batchSize = 128
        if let weights {
            network = try WeightsFile.load(URL(fileURLWithPath: weights), into: network, keepInitial: ["fc."])
        } else {
            network.backbone = try Pretraining.rotation(network, images: train, configuration: pretraining).network.backbone
            try WeightsFile.save(network, to: directory.appendingPathComponent("weights.h5"))
        }

        let (split, linearize) = try ModelZoo.defaults(for: model)
        let cacheLayer = linearize.first ?? split  // cache right below the linearized layers: fastest training
        var configuration = TrainingConfiguration.paper(iterations: niter, seed: seed)
        configuration.evaluateEvery = max(1, niter / 10)
        let rows = try Comparison(
            network: network, split: cacheLayer, linearize: linearize, configurations: ["activation": configuration]
        ).run(images: train, test: test, loss: SoftmaxCrossEntropy())
        let report = ResultsReport(
            title: "Self-supervised \(model) (rotation prediction) → CIFAR-10", rows: rows,
            notes: ["\(train.count) train / \(test.count) test images; θ2 = \(linearize.joined(separator: ", "))",
                    "pre-training: \(weights ?? "\(pretrainIterations) iterations of rotation prediction"); models: \(niter) iterations, seed \(seed)"],
            configurations: (weights == nil ? ["pretraining": pretraining] : [:]).merging(["models": configuration]) { $1 })
        try report.write(to: directory)
        print(report.markdown)
    }
}
