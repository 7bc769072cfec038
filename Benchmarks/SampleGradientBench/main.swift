// Per-sample gradient benchmark (issue 17): the gradient of each sample's cross-entropy loss with respect to θ2 =
// conv5 of bigan-cifar, for a batch of cached conv5 inputs, exactly (|θ2| = 2.1M columns) or projected to K
// dimensions by the Kronecker-structured projection (GradientRows, KroneckerProjection), and the projection alone
// from the layer's factors. Benchmarks/reference/torch_sample_gradients.py times the same with
// torch.func.vmap(grad) and the same projection written in PyTorch; compare_sample_gradients.py runs both
// alternately. See BENCHMARKS.md.
//
//     swift run -c release SampleGradientBench --mode projected|gradients|projection [--batch 128] [--projection 4096]
//                                              [--seconds 2]
import Foundation
import GradFeat
import Layers
import Tensor

func option(_ name: String) -> String? {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

do {
    let mode = option("--mode") ?? "projected"
    let batch = option("--batch").flatMap(Int.init) ?? 128
    let dimension = option("--projection").flatMap(Int.init) ?? 4096
    let seconds = option("--seconds").flatMap(Double.init) ?? 2
    guard ["projected", "gradients", "projection"].contains(mode), batch > 0 else {
        throw GradFeatError.invalidConfiguration(
            "--mode must be projected, gradients or projection and --batch positive (got \(mode), \(batch))")
    }
    let residentBefore = StepBenchmark.memoryMB("VmRSS")
    let network = try ModelZoo.make(BiganCIFAR.name, classes: 10, inputSize: 32, seed: 1)
    var rng = SeededRandom(seed: 2)
    let images = Tensor.uniform([batch, 3, 32, 32], low: 0, high: 1, using: &rng)
    let z0 = try network.bottom(splitAt: "conv5").forward(images)
    let targets = Targets.classes((0..<batch).map { $0 % 10 })
    let top = try LinearizedTop(try network.top(splitAt: "conv5"), linearize: ["conv5"])
    let projection = try KroneckerProjection(dimension: dimension, top: top, seed: 0)
    let loss = SoftmaxCrossEntropy()
    let body: () throws -> Void
    switch mode {
    case "gradients":
        let rows = try GradientRows(top: top, head: network.head)
        body = { _ = try rows.lossGradients(z0, targets: targets, loss: loss) }
    case "projection":
        // The factors of one batch's per-sample gradients, computed once; the projection alone is timed.
        let pass = try top.apply(z0, parameterTangent: nil)
        let logits = try network.head.logits(pass.value)
        let g = try loss.evaluate(logits: logits, targets: targets).gradient
        let cotangent = try network.head.featureGradient(at: pass.value, logitsGradient: g)
        let factors = try top.perSampleFactors(pass.record, cotangent: cotangent)
        let map = GradientRowMap.projected(projection)
        body = { _ = try map.rows(factors, scales: [1, 1]) }
    default:
        let rows = try GradientRows(top: top, head: network.head, map: .projected(projection))
        body = { _ = try rows.lossGradients(z0, targets: targets, loss: loss) }
    }
    let (median, steps) = try StepBenchmark.medianSeconds(minSeconds: seconds, body)
    let peak = StepBenchmark.memoryMB("VmHWM")
    print(
        String(
            format: "BENCH framework=ours model=bigan-cifar theta2=conv5 mode=%@ batch=%d projection=%d "
                + "img_per_s=%.0f peak_mb=%.0f delta_mb=%.0f step_ms=%.2f steps=%d workers=%d",
            mode, batch, dimension, Double(batch) / median, peak, max(0, peak - residentBefore), median * 1e3,
            steps, Parallel.workerCount))
} catch {
    FileHandle.standardError.write(Data("SampleGradientBench: \(error)\n".utf8))
    exit(1)
}
