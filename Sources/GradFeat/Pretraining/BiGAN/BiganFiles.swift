import Foundation
import Tensor

/// What a BiGAN run writes beside its weights file `<stem>.h5`, so that a person can watch it learn: the
/// checkpoint `<stem>-bigan-checkpoint.h5`, and at every checkpoint a sample grid `<stem>-samples-<iteration>.png`
/// and the loss curves `<stem>-losses.csv` and `.svg`.
public struct BiganFiles: Sendable {
    public let weights: URL

    public init(weights: URL) { self.weights = weights }

    var folder: URL { weights.deletingLastPathComponent() }
    var stem: String { weights.deletingPathExtension().lastPathComponent }

    public var checkpoint: URL { folder.appendingPathComponent("\(stem)-bigan-checkpoint.h5") }
    public func samples(at iteration: Int) -> URL { folder.appendingPathComponent("\(stem)-samples-\(iteration).png") }
    public var lossTable: URL { folder.appendingPathComponent("\(stem)-losses.csv") }
    public var lossPlot: URL { folder.appendingPathComponent("\(stem)-losses.svg") }

    /// The sample grid of `state`: 8 rows of G(z) for the fixed codes `codes` (64 of them), then 4 rows that pair
    /// each of the fixed real images `reals` (16) with its reconstruction G(E(x)) beneath it.
    public static func sampleGrid(_ state: BiganState, codes: Tensor, reals: Tensor) throws -> [UInt8] {
        let generated = try state.models.generate(codes)
        let reconstructed = try state.models.generate(try state.models.encode(reals))
        let half = reals.shape[0] / 2
        let rows = [
            generated, reals.rows(0..<half), reconstructed.rows(0..<half), reals.rows(half..<reals.shape[0]),
            reconstructed.rows(half..<reals.shape[0]),
        ]
        var dimensions = reals.shape.dimensions
        dimensions[0] = rows.reduce(0) { $0 + $1.shape[0] }
        return try SampleGrid.png(
            try Tensor(shape: Shape(dimensions), scalars: rows.flatMap(\.scalars)), columns: max(half, 1))
    }

    /// The history as CSV and an SVG plot of both losses.
    func writeCurves(_ history: [BiganRecord]) throws {
        let header = "iteration,d_loss,ge_loss,d_real,d_fake,lr,seconds\n"
        let lines = history.map {
            "\($0.iteration),\($0.discriminatorLoss),\($0.encoderGeneratorLoss),\($0.realScore),\($0.fakeScore),"
                + "\($0.learningRate),\(String(format: "%.1f", $0.seconds))\n"
        }
        try writeAtomically(header + lines.joined(), to: lossTable)
        let plot = SVGPlot(
            title: "BiGAN losses (\(stem))", xLabel: "iteration", yLabel: "binary cross-entropy",
            series: [
                ("D", history.map { (Double($0.iteration), $0.discriminatorLoss) }),
                ("G/E", history.map { (Double($0.iteration), $0.encoderGeneratorLoss) }),
            ])
        try writeAtomically(plot.render(), to: lossPlot)
    }
}
