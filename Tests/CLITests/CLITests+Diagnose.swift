import Foundation
import GradFeat
import Testing

@testable import GradFeatCLI

/// `gradfeat diagnose` end to end on a tiny run: its files, and refusals that leave nothing behind.
extension CLITests {
    @Test func diagnoseWritesTheGapSharesAndAlignments() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        try CLITests.gradfeat([
            "train", "--dataset", "mnist", "--data-dir", root.path, "--model", BiganCIFAR.smallName,
            "--weights", root.appendingPathComponent("weights.h5").path, "--extractor",
            "activation,gradfeat", "--linearize", "conv4,conv5", "--niter", "20", "--quiet",
            "--output", run.path,
        ])
        try CLITests.gradfeat([
            "diagnose", "--run", run.path, "--kernel-samples", "40", "--projection", "512",
            "--compare-random", "--quiet",
        ])
        for name in ["diagnostics.md", "diagnostics.json", "diagnostics-gap.svg", "diagnostics-accuracy.svg"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path), "\(name) missing")
        }
        let report = try JSONDecoder().decode(
            DiagnoseCommand.Report.self, from: Data(contentsOf: run.appendingPathComponent("diagnostics.json")))
        #expect(report.extractor == "gradfeat" && report.gap.count == DiagnoseCommand.grid.count)
        #expect(report.shares.map(\.layer) == ["conv4", "conv5"])
        #expect(abs(report.shares.reduce(0) { $0 + $1.share } - 1) < 1e-3, "shares \(report.shares)")
        #expect(
            [
                report.ntkAlignment, report.activationAlignment, report.gradientKernelScore,
                report.gradientKernelScoreRandomTheta1 ?? .nan,
            ].allSatisfy { $0.isFinite && $0 != 0 })
        #expect(
            report.gap.allSatisfy { $0.relativeGap.isFinite }
                && report.gap[0].relativeGap < report.gap.last!.relativeGap,
            "gap \(report.gap.map(\.relativeGap))")

        // The activation model has no gradient term; a missing model is named with the ones there are.
        let other = root.appendingPathComponent("other")
        let refusal = #expect(throws: (any Error).self) {
            try CLITests.gradfeat([
                "diagnose", "--run", run.path, "--extractor", "activation", "--output", other.path,
                "--quiet",
            ])
        }
        #expect(refusal.map { "\($0)".contains("no gradient term") } == true)
        let missing = #expect(throws: (any Error).self) {
            try CLITests.gradfeat(["diagnose", "--run", run.path, "--extractor", "gradient", "--quiet"])
        }
        #expect(missing.map { "\($0)".contains("activation, gradfeat") } == true)
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("diagnostics.md").path))
    }
}
