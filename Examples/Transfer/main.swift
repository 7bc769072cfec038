// Transfer (Mu, Liang, Li, ICLR 2020, Table 3 setting at this machine's scale): pre-train the CIFAR encoder with
// labels on CIFAR-100, then adapt it to CIFAR-10 (accuracy) and to PASCAL VOC 2007 (multi-label, mAP on the shared
// copy's `val` split) with the activation, gradient, full GradFeat and fine-tuning models.
//
//     swift run -c release Transfer --data-dir ../shared/datasets [--pretrain-iterations 3000] [--niter 3000]
//         [--voc-test-crops ten] [--memory-budget 4GB]
//     gradfeat eval --run runs/transfer/cifar10
import ArgumentParser
import Foundation
import GradFeat
import GradFeatLogging

@main
struct Transfer: ParsableCommand {
    @Option var dataDir: String?
    @Option var model = BiganCIFAR.smallName
    @Option var pretrainIterations = 3_000
    @Option var niter = 3_000
    @Option(help: "Targets: cifar10, voc2007 or both.") var target = "both"
    @Option var seed: UInt64 = 0
    @Option var output = "runs/transfer"
    @Option(help: "VOC2007's test-time views: none, or ten (the paper's protocol: images at 37×37, crops of 32×32).")
    var vocTestCrops = "none"
    @Option(help: "Memory for the data and activation caches (512MB, 4GB); caches beyond it are streamed.")
    var memoryBudget: String?

    func run() throws {
        GradFeatLogging.bootstrap() // progress as a bar on a terminal, lines in a log
        // 1. Supervised pre-training on CIFAR-100: the network and its weights, in the source's folder.
        let source = ExperimentSpec(
            data: DataSpec(dataset: "cifar100", dataDirectory: dataDir), model: model, pretrain: .supervised,
            pretrainIterations: pretrainIterations, training: .paper(iterations: 0, seed: seed),
            output: output + "/cifar100")
        guard let weights = try Experiment(source).pretrain()?.path else { return }

        // 2. Adapt it to each target with the four models, each in its own run folder.
        let crops = try TestCrops(parsing: vocTestCrops, option: "--voc-test-crops")
        for task in ["cifar10", "voc2007"] where target == "both" || target == task {
            let views = task == "voc2007" ? crops : .none
            let spec = ExperimentSpec(
                data: DataSpec(dataset: task, dataDirectory: dataDir, imageSize: views == .none ? 32 : 37),
                model: model,
                weights: weights, split: "conv5", linearize: ["conv5"], training: .paper(iterations: niter, seed: seed),
                output: output + "/" + task, title: "CIFAR-100 (supervised \(model)) → \(task)",
                memoryBudget: memoryBudget, testCrops: views)
            print(try Experiment(spec).run().summary)
        }
    }
}
