import Datasets
import Foundation
import GradFeat
import Tensor
import Testing

@testable import GradFeatCLI

/// `train --test-crops ten` end to end: ten view caches, the model built for the centre crop, and `eval --run`
/// scoring the run by the same average, with its caches and without them.
extension CLITests {
    @Test func trainAveragesTenCropsAndEvalScoresTheSameWay() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        // 37×37 images: their 7/8 crops are bigan-small's 32×32.
        var rng = SeededRandom(seed: 4)
        let labels = (0..<80).map { Int64($0 % 4) }
        let pixels = labels.flatMap { label in
            (0..<(37 * 37)).map { i in
                UInt8((i / 37 / 10 == Int(label) ? 140 : 0) + Int.random(in: 0..<90, using: &rng))
            }
        }
        let images = root.appendingPathComponent("images37.h5")
        try DatasetCache.write(
            ImageSet(
                images: pixels, count: 80, channels: 1, height: 37, width: 37, labels: .single(labels),
                classNames: ["a", "b", "c", "d"], source: "/synthetic", split: "train"),
            to: images)
        let run = RunDirectory(root.appendingPathComponent("run"))
        let common = ["--dataset", images.path, "--test-fraction", "0.25", "--model", BiganCIFAR.smallName, "--quiet"]
        try CLITests.gradfeat(
            ["train"] + common + [
                "--extractor", "activation,gradfeat", "--niter", "6", "--batchsize",
                "16", "--test-crops", "ten", "--output", run.url.path,
            ])
        let record = try run.record()
        #expect(record.experiment?.testCrops == .ten)
        #expect(record.inputShape == [1, 32, 32], "the model is built for the centre crop, 7/8 of 37")
        for view in 0..<10 {
            let url = run.activationCache(Experiment.TestViews.role(view))
            #expect(try ActivationCacheReader(url).count == 20, "\(url.lastPathComponent)")
        }
        try CLITests.gradfeat(["eval", "--run", run.url.path, "--quiet"])
        let scores = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: run.file("eval.json")))
        for name in ["activation", "gradfeat"] {
            let metrics = try #require(scores[name])
            let centre = try #require(try CheckpointFile.load(run.checkpoint(name)).state.history.last)
            #expect(metrics.count == 20)
            // The average of ten views is not the centre view's score.
            #expect(metrics.loss != nil && metrics.loss != centre.testLoss, "\(name): \(metrics.loss ?? .nan)")
        }
        #expect(
            try String(contentsOf: run.file("eval.md"), encoding: .utf8).contains("averaged over 10 test-time crops"))

        // Without its caches, eval --run crops the recorded data again and gets the same scores.
        for role in ["train", "test"] + (0..<10).map(Experiment.TestViews.role) {
            try FileManager.default.removeItem(at: run.activationCache(role))
        }
        try CLITests.gradfeat(["eval", "--run", run.url.path, "--quiet"])
        let again = try JSONDecoder().decode([String: Metrics].self, from: Data(contentsOf: run.file("eval.json")))
        #expect(again == scores)

        // Crops the model cannot take, and a view count that does not parse, are refused before anything is written.
        for (crops, data) in [
            ("ten", ["--dataset", "mnist", "--data-dir", root.path]), ("eleven", ["--dataset", images.path]),
        ] {
            let bad = root.appendingPathComponent("bad-\(crops)")
            do {
                try CLITests.gradfeat(
                    [
                        "train", "--model", BiganCIFAR.smallName, "--test-crops", crops, "--niter", "2",
                        "--quiet", "--output", bad.path,
                    ] + data)
                Issue.record("--test-crops \(crops) on \(data) was accepted")
            } catch {
                #expect("\(error)".contains("test-crops") || "\(error)".contains("test_crops"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: bad.appendingPathComponent("activations-train.h5").path))
        }
    }
}
