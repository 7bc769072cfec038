import Foundation
import GradFeat
import HDF5
import TestSupport
import Testing

/// `gradfeat attribute` end to end: an MSE activation model solved by CG on the tiny MNIST-format set, its file,
/// and the refusal of a cross-entropy model (in `CLITests`, whose commands run one at a time in this process).
extension CLITests {
    @Test func attributeWritesRankedLeaveOneOutScoresOfAnMSEModel() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let common = [
            "--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName, "--weights",
            root.appendingPathComponent("weights.h5").path, "--extractor", "activation", "--quiet",
        ]
        let run = root.appendingPathComponent("mse").path
        let lambda = 1e-2
        try CLITests.gradfeat(
            ["train"] + common + [
                "--loss", "mse", "--solver", "cg", "--wd", "\(lambda)", "--niter", "300",
                "--tol", "1e-9", "--parametrization", "standard", "--output", run,
            ])
        let output = root.appendingPathComponent("attribution.h5")
        let page = root.appendingPathComponent("attribution.html")
        try CLITests.gradfeat([
            "attribute", "--run", run, "--test-size", "5", "--top-k", "4", "--output", output.path,
            "--html", page.path, "--quiet",
        ])
        // The page shows each test image with its four most helpful and four most harmful training images.
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.components(separatedBy: "<img src=\"data:image/png;base64,").count - 1 == 5 * 9)

        let file = try HDF5File(url: output, mode: .readOnly)
        let scores: [Float] = try file.dataset(named: "scores").read()
        #expect(try file.dataset(named: "scores").shape == [5, 64])
        let top: [Int64] = try file.dataset(named: "top_indices").read()
        let topScores: [Float] = try file.dataset(named: "top_scores").read()
        let bottom: [Int64] = try file.dataset(named: "bottom_indices").read()
        for t in 0..<5 {
            let row = Array(scores[(t * 64)..<((t + 1) * 64)])
            // The lists are the row's extremes, in order, and name the scores /scores holds.
            #expect(row[Int(top[t * 4])] == row.max() && row[Int(bottom[t * 4])] == row.min())
            #expect(zip(topScores[(t * 4)..<(t * 4 + 3)], topScores[(t * 4 + 1)..<(t * 4 + 4)]).allSatisfy { $0 >= $1 })
            #expect((0..<4).allSatisfy { topScores[t * 4 + $0] == row[Int(top[t * 4 + $0])] })
        }
        #expect(scores.contains { $0 > 0 } && scores.contains { $0 < 0 }, "no training image helps or hurts")
        let expected = try Self.scoresByRefitting(run: run, lambda: lambda, testCount: 5)
        let difference = zip(scores, expected).map { Double($0) - $1 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let size = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(difference <= 1e-3 * size, "scores differ from refitting without each image: \(difference / size)")
        let ratio: Double = try file.attribute("relative_gradient_norm")
        #expect(ratio < 1e-3, "the CG solution is not at the optimum: relative gradient norm \(ratio)")

        // Beyond the memory budget: refused without --top-k (nothing written), and named with it when even the
        // system does not fit.
        let small = root.appendingPathComponent("small.h5").path
        let overBudget = #expect(throws: GradFeatError.self) {
            try CLITests.gradfeat(["attribute", "--run", run, "--output", small, "--memory-budget", "1KB", "--quiet"])
        }
        #expect(overBudget.map { "\($0)".contains("--top-k") && "\($0)".contains("--memory-budget") } == true)
        let systemOverBudget = #expect(throws: GradFeatError.self) {
            try CLITests.gradfeat([
                "attribute", "--run", run, "--output", small, "--memory-budget", "1KB", "--top-k", "2",
                "--quiet",
            ])
        }
        #expect(systemOverBudget.map { "\($0)".contains("raise the budget") } == true)
        #expect(throws: (any Error).self) {
            try CLITests.gradfeat(["attribute", "--run", run, "--output", small, "--memory-budget", "lots", "--quiet"])
        }
        #expect(!FileManager.default.fileExists(atPath: small))

        // A cross-entropy model is attributed by one Newton step, and the file says it is not exact.
        let ce = root.appendingPathComponent("ce").path
        try CLITests.gradfeat(["train"] + common + ["--niter", "3", "--output", ce])
        let ceOutput = root.appendingPathComponent("ce.h5")
        try CLITests.gradfeat(["attribute", "--run", ce, "--output", ceOutput.path, "--test-size", "3", "--quiet"])
        let ceFile = try HDF5File(url: ceOutput, mode: .readOnly)
        let exact: Int64 = try ceFile.attribute("exact")
        #expect(exact == 0)
        #expect(try ceFile.dataset(named: "top_indices").shape == [3, 10])
    }

    /// The implicit gradient model through projected rows (approximate), the projected-gradient model (exact),
    /// and the refusals that name the option to use.
    @Test func attributeProjectsTheGradientModelAndAttributesTheProjectedOneExactly() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("mse").path
        try CLITests.gradfeat([
            "train", "--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName,
            "--weights", root.appendingPathComponent("weights.h5").path,
            "--extractor", "activation,gradient,projected-gradient",
            "--extractor-option", "projected-gradient.dimension=16", "--loss", "mse", "--solver", "cg",
            "--wd", "1e-2", "--niter", "1000", "--tol", "1e-10", "--quiet", "--output", run,
        ])
        let output = root.appendingPathComponent("a.h5")
        let wide = #expect(throws: GradFeatError.self) {
            try CLITests.gradfeat([
                "attribute", "--run", run, "--extractor", "gradient", "--output", output.path, "--quiet",
            ])
        }
        #expect(wide.map { "\($0)".contains("--projection") } == true)
        let exactRows = #expect(throws: GradFeatError.self) {
            try CLITests.gradfeat([
                "attribute", "--run", run, "--extractor", "activation", "--projection", "16",
                "--output", output.path, "--quiet",
            ])
        }
        #expect(exactRows.map { "\($0)".contains("drop --projection") } == true)
        #expect(!FileManager.default.fileExists(atPath: output.path))

        for (extractor, projection, isExact) in [
            ("gradient", ["--projection", "16"], Int64(0)),
            ("projected-gradient", [], Int64(1)),
        ] {
            try CLITests.gradfeat(
                [
                    "attribute", "--run", run, "--extractor", extractor, "--test-size", "4", "--top-k", "3",
                    "--output", output.path, "--quiet",
                ] + projection)
            let file = try HDF5File(url: output, mode: .readOnly)
            let exact: Int64 = try file.attribute("exact")
            #expect(exact == isExact, "\(extractor)")
            let scores: [Float] = try file.dataset(named: "scores").read()
            #expect(scores.count == 4 * 64 && scores.allSatisfy(\.isFinite))
            #expect(scores.contains { $0 > 0 } && scores.contains { $0 < 0 }, "\(extractor): no image helps or hurts")
            let ratio: Double = try file.attribute("relative_gradient_norm")
            #expect(ratio < 1e-3, "\(extractor) is not at the optimum: \(ratio)")
        }
    }

    /// The scores of the run's activation model (standard parametrization: φ = [f, 1]) by refitting: ridge on the
    /// training features with each image left out in turn, solved in Float64, against ridge on all of them.
    static func scoresByRefitting(run path: String, lambda: Double, testCount: Int) throws -> [Double] {
        let run = RunDirectory(URL(fileURLWithPath: path))
        let record = try run.record()
        let layout = try run.layout(model: record.model, record: record)
        let trainCache = try ActivationCacheReader(run.activationCache("train"))
        let base = try run.baseNetwork(record, classes: trainCache.classCount)
        let trained = try run.rebuild(
            checkpoint: run.checkpoint("activation"),
            network: try run.featureNetwork(base, layout: layout), layout: layout, record: record)
        let model = try #require(trained.extractor as? ActivationFeatures)
        func rows(_ cache: ActivationCacheReader, _ count: Int) throws -> (phi: [[Double]], labels: [Int]) {
            let (inputs, targets) = try cache.batch(rows: 0..<count)
            let f = try model.features(inputs)
            let d = f.shape[1]
            guard case let .classes(labels) = targets else { throw GradFeatError.invalidConfiguration("multi-label") }
            return ((0..<count).map { n in (0..<d).map { Double(f.scalars[n * d + $0]) } + [1] }, labels)
        }
        let train = try rows(trainCache, trainCache.count)
        let test = try rows(try ActivationCacheReader(run.activationCache("test")), testCount)
        let (n, q, c) = (train.phi.count, train.phi[0].count, trainCache.classCount)
        /// The true-class test logits of ridge on the training rows in `kept` (the factor 1/N of all n kept).
        func logits(_ kept: [Int]) -> [Double] {
            var a = (0..<q).map { i in (0..<q).map { j in (i == j ? lambda : 0) } }
            var b = Array(repeating: Array(repeating: 0.0, count: c), count: q)
            for r in kept {
                let phi = train.phi[r]
                for i in 0..<q {
                    for j in 0..<q { a[i][j] += phi[i] * phi[j] / Double(n) }
                    b[i][train.labels[r]] += phi[i] / Double(n)
                }
            }
            let x = solveLinearSystem(a, b)
            return zip(test.phi, test.labels).map { phi, label in (0..<q).reduce(0) { $0 + phi[$1] * x[$1][label] } }
        }
        let full = logits(Array(0..<n))
        let without = (0..<n).map { dropped in logits((0..<n).filter { $0 != dropped }) }
        return (0..<testCount).flatMap { t in (0..<n).map { full[t] - without[$0][t] } }
    }
}
