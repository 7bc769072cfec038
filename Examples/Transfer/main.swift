// Transfer (Mu, Liang, Li, ICLR 2020, Table 3 setting at this machine's scale): pre-train the CIFAR encoder with
// labels on CIFAR-100, then adapt it to CIFAR-10 (accuracy) and to PASCAL VOC 2007 (multi-label, mAP on the shared
// copy's `val` split) with the activation, gradient, full GradFeat and fine-tuning models.
//
//     swift run -c release Transfer --data-dir ../shared/datasets [--pretrain-iterations 3000] [--niter 3000]
import ArgumentParser
import Foundation
import GradFeat
import Layers

@main
struct Transfer: ParsableCommand {
    @Option var dataDir: String?
    @Option var model = BiganCIFAR.smallName
    @Option var pretrainIterations = 3_000
    @Option var niter = 3_000
    @Option(help: "Targets: cifar10, voc2007 or both.") var target = "both"
    @Option var seed: UInt64 = 0
    @Option var output = "runs/transfer"

    func run() throws {
        let directory = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // 1. Supervised pre-training on CIFAR-100.
        let source = try ImageBatches(try DataCatalog.load("cifar100", split: "train", dataDirectory: dataDir), scaling: .unit)
        var network = try ModelZoo.make(model, classes: 100, seed: seed)
        var pretraining = TrainingConfiguration.paper(iterations: pretrainIterations, seed: seed)
        pretraining.batchSize = 128
        network.backbone = try Pretraining.supervised(network, on: source, configuration: pretraining).network.backbone
        try WeightsFile.save(network, to: directory.appendingPathComponent("cifar100-\(model).h5"))

        // 2. Adapt to each target with the four models.
        let targets: [(name: String, train: String, test: String)] = [
            ("cifar10", "train", "test"), ("voc2007", "train", "val"),
        ].filter { target == "both" || target == $0.0 }
        for task in targets {
            let train = try ImageBatches(try DataCatalog.load(task.name, split: task.train, dataDirectory: dataDir, size: 32), scaling: .unit)
            let test = try ImageBatches(try DataCatalog.load(task.name, split: task.test, dataDirectory: dataDir, size: 32), scaling: .unit)
            var configuration = TrainingConfiguration.paper(iterations: niter, seed: seed)
            configuration.evaluateEvery = max(1, niter / 10)
            let loss: any Loss = task.name == "voc2007" ? SigmoidBinaryCrossEntropy() : SoftmaxCrossEntropy()
            let rows = try Comparison(
                network: network, split: "conv5", linearize: ["conv5"], configurations: ["activation": configuration]
            ).run(images: train, test: test, loss: loss)
            let report = ResultsReport(
                title: "CIFAR-100 (supervised \(model)) → \(task.name)", rows: rows,
                notes: ["train on \(task.train) (\(train.count) images), evaluate on \(task.test) (\(test.count)), 32x32",
                        "pre-training \(pretrainIterations) iterations; models \(niter) iterations; seed \(seed)"]
                    + (task.name == "voc2007" ? ["VOC-style mAP ignoring difficult (flag 0) entries; the shared copy has no test images"] : []),
                configurations: ["pretraining": pretraining, "models": configuration])
            try report.write(to: directory.appendingPathComponent(task.name))
            print(report.markdown)
        }
    }
}
