// GradFeat in one page: pre-train a base network without labels, cache its bottom activations, and compare the
// activation, gradient, full GradFeat and fine-tuning models (Mu, Liang, Li, ICLR 2020).
//
//     swift run -c release Quickstart [--dataset fashion-mnist] [--train-size 20000]
import ArgumentParser
import Foundation
import GradFeat
import Layers

@main
struct Quickstart: ParsableCommand {
    @Option var dataset = "fashion-mnist"
    @Option var dataDir: String?
    @Option var trainSize = 20_000
    @Option var niter = 1_000
    @Option var seed: UInt64 = 0
    @Option var output = "runs/quickstart"

    func run() throws {
        // Data: uint8 images, scaled to [0, 1] batch by batch, padded to the encoder's 32x32.
        func load(_ split: String) throws -> ImageBatches {
            let images = try ImageBatches(try DataCatalog.load(dataset, split: split, dataDirectory: dataDir), scaling: .unit)
            return images.imageShape[1] == 28 ? images.padded(by: 2) : images
        }
        let train = try load("train").subset(Array(0..<trainSize)), test = try load("test")

        // A base network (the paper's CIFAR encoder at half width), pre-trained by rotation prediction.
        var network = BiganCIFAR.make(classes: train.classCount, inputChannels: train.imageShape[0], widthDivisor: 2, seed: seed)
        var pretraining = TrainingConfiguration.paper(iterations: 400, seed: seed)
        pretraining.batchSize = 128
        network.backbone = try Pretraining.rotation(network, images: train, configuration: pretraining).network.backbone

        // θ1 = conv1…conv4 (frozen, its activations cached once); θ2 = conv5 (linearized).
        let rows = try Comparison(
            network: network, split: "conv5", linearize: ["conv5"],
            configurations: ["activation": .paper(iterations: niter, seed: seed)]
        ).run(images: train, test: test, loss: SoftmaxCrossEntropy())
        let report = ResultsReport(title: "GradFeat quickstart on \(dataset)", rows: rows,
                                   notes: ["\(train.count) training images, \(niter) iterations per model, seed \(seed)"],
                                   configurations: ["pretraining": pretraining, "models": .paper(iterations: niter, seed: seed)])
        try report.write(to: URL(fileURLWithPath: output))
        print(report.markdown)
    }
}
