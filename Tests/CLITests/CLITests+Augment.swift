import Foundation
import GradFeat
import Tensor
import Testing

@testable import GradFeatCLI

/// `train --augment`: every model trains from augmented images, the run resumes bit-identically and is scored
/// unaugmented by `eval --run`; a split that caches layers, and a full-batch solver, are refused.
extension CLITests {
    @Test func augmentedFineTuningTrainsFromImagesAndResumesBitIdentically() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let common = [
            "train", "--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName,
            "--weights", root.appendingPathComponent("weights.h5").path, "--extractor", "finetune",
            "--linearize", "conv5", "--augment", "crop:4,flip", "--batchsize", "8", "--eval-every", "2",
            "--checkpoint-every", "2", "--quiet",
        ]
        let whole = RunDirectory(root.appendingPathComponent("whole"))
        try CLITests.gradfeat(common + ["--niter", "6", "--output", whole.url.path])
        let record = try whole.record()
        #expect(record.split == "conv1" && record.experiment?.augment == Augmentation(padding: 4))
        #expect(
            try ActivationCacheReader(whole.activationCache("train")).sampleShape == [1, 32, 32],
            "the cache holds the images")

        let resumed = RunDirectory(root.appendingPathComponent("resumed"))
        try CLITests.gradfeat(common + ["--niter", "4", "--output", resumed.url.path])
        try CLITests.gradfeat(common + ["--niter", "6", "--resume", "--output", resumed.url.path])
        let (a, b) = (
            try CheckpointFile.load(whole.checkpoint("finetune")).state,
            try CheckpointFile.load(resumed.checkpoint("finetune")).state
        )
        #expect(a.parameters == b.parameters, "an interrupted, augmented run differs from the whole one")

        // Augmentation is off in evaluation: eval --run finds the accuracy training measured last.
        try CLITests.gradfeat(["eval", "--run", whole.url.path, "--quiet"])
        let scores = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: whole.file("eval.json")))
        #expect(scores["finetune"]?.accuracy == a.history.last?.testMetric)

        // Without augmentation the same run takes other steps: it is not a no-op.
        let plain = RunDirectory(root.appendingPathComponent("plain"))
        try CLITests.gradfeat(
            common.filter { !["--augment", "crop:4,flip"].contains($0) }
                + ["--split", "conv1", "--niter", "6", "--output", plain.url.path])
        #expect(try CheckpointFile.load(plain.checkpoint("finetune")).state.parameters != a.parameters)

        for (bad, mention) in [
            (["--augment", "crop:4,flip", "--split", "conv3"], "--split conv3"),
            (["--augment", "rotate"], "augment"),
            (["--augment", "flip", "--solver", "lbfgs"], "solver lbfgs"),
        ] {
            do {
                try CLITests.gradfeat(
                    common.filter { !["--augment", "crop:4,flip"].contains($0) } + bad
                        + ["--niter", "2", "--output", root.appendingPathComponent("bad").path])
                Issue.record("\(bad) was accepted")
            } catch {
                #expect("\(error)".contains(mention), "\(error)")
            }
        }
    }

    /// The linear models see the augmented images too: with `--augment` their steps differ from a plain run's (the
    /// augmentation once sat in the network, where their evaluation-mode features skipped it).
    @Test func augmentationChangesTheLinearModelsSteps() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let common = [
            "train", "--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName,
            "--weights", root.appendingPathComponent("weights.h5").path, "--extractor", "activation,gradfeat",
            "--linearize", "conv5", "--split", "conv1", "--batchsize", "8", "--niter", "3", "--quiet",
        ]
        var parameters: [String: [[Tensor]]] = [:]
        for (name, extra) in [
            ("plain", [String]()), ("augmented", ["--augment", "crop:4,flip"]),
            ("again", ["--augment", "crop:4,flip"]),
        ] {
            let run = RunDirectory(root.appendingPathComponent(name))
            try CLITests.gradfeat(common + extra + ["--output", run.url.path])
            parameters[name] = try ["activation", "gradfeat"].map {
                try CheckpointFile.load(run.checkpoint($0)).state.parameters
            }
        }
        for (index, model) in ["activation", "gradfeat"].enumerated() {
            #expect(parameters["augmented"]![index] != parameters["plain"]![index], "\(model) ignored --augment")
            #expect(
                parameters["augmented"]![index] == parameters["again"]![index], "\(model)'s augmentation is not seeded")
        }
    }
}
