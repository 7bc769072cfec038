import Foundation
import GradFeat
import HDF5
import TestSupport
import Testing

/// `gradfeat extract --features gradient|loss-gradient` end to end on the tiny MNIST-format set.
extension CLITests {
    /// The per-sample cross-entropy gradients equal the gradient features weighted by the network's softmax
    /// residuals, `∇ℓₙ = Σₖ (pₙₖ − yₙₖ) Gₙₖ` (p from `gradfeat predict`'s logits); the projected file has K columns and
    /// records its projection; a projection larger than θ2 is refused before anything is written.
    @Test func extractWritesGradientRowsAndLossGradientsThatAgree() throws {
        let root = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("test.h5").path
        try CLITests.gradfeat([
            "cache", "--format", "mnist", "--source", root.appendingPathComponent("mnist").path,
            "--split", "test", "--output", data, "--quiet",
        ])
        let network = ["--model", BiganCIFAR.smallName, "--weights", root.appendingPathComponent("weights.h5").path]
        func extract(_ kind: String, _ name: String, _ extra: [String] = []) throws -> HDF5File {
            let output = root.appendingPathComponent(name).path
            try CLITests.gradfeat(
                ["extract"] + network + [
                    "--features", kind, "--linearize", "conv3", "--input", data,
                    "--output", output,
                ] + extra)
            return try HDF5File(url: URL(fileURLWithPath: output), mode: .readOnly)
        }
        let gradients = try extract("gradient", "gradient.h5", ["--batch-size", "5"])
        let losses = try extract("loss-gradient", "loss.h5")
        let projected = try extract("loss-gradient", "projected.h5", ["--projection", "256"])
        try CLITests.gradfeat(
            ["predict"] + network + [
                "--input", data, "--output",
                root.appendingPathComponent("logits.h5").path,
            ])
        let logits: [Float] = try HDF5File(url: root.appendingPathComponent("logits.h5"), mode: .readOnly)
            .dataset(named: "logits").read()
        let labels: [Int64] = try losses.dataset(named: "labels").read()

        let p = 16 * 32 * 64 + 64 // conv3 of bigan-small: 32 → 64 channels, 4×4 kernel, and its bias
        #expect(try gradients.dataset(named: "features").shape == [32, 10, p])
        #expect(try losses.dataset(named: "features").shape == [32, p])
        #expect(try projected.dataset(named: "features").shape == [32, 256])
        #expect(try projected.attribute("projection", as: Int.self) == 256)
        #expect(try projected.attribute("projection_blocks", as: [Int].self) == [16, 16])
        let g: [Float] = try gradients.dataset(named: "features").read()
        let l: [Float] = try losses.dataset(named: "features").read()
        var expected = [Double](repeating: 0, count: 32 * p)
        for n in 0..<32 {
            let row = logits[(n * 10)..<((n + 1) * 10)].map(Double.init)
            let peak = row.max()!
            let exps = row.map { Foundation.exp($0 - peak) }
            let total = exps.reduce(0, +)
            for k in 0..<10 {
                let weight = exps[k] / total - (k == Int(labels[n]) ? 1 : 0)
                let base = (n * 10 + k) * p
                for j in 0..<p { expected[n * p + j] += weight * Double(g[base + j]) }
            }
        }
        let difference = zip(l, expected).reduce(0.0) { $0 + (Double($1.0) - $1.1) * (Double($1.0) - $1.1) }
        let error = difference.squareRoot() / expected.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        #expect(error < 1e-4, "loss gradients against the weighted gradient features: relative error \(error)")

        let refused = root.appendingPathComponent("too-large.h5")
        let refusal = #expect(throws: (any Error).self) {
            try CLITests.gradfeat(
                ["extract"] + network + [
                    "--features", "gradient", "--linearize", "conv3",
                    "--projection", "\(p + 1)", "--input", data,
                    "--output", refused.path,
                ])
        }
        #expect(refusal.map { "\($0)".contains("--projection \(p + 1) is larger than |θ2|") } == true)
        #expect(!FileManager.default.fileExists(atPath: refused.path))
    }
}
