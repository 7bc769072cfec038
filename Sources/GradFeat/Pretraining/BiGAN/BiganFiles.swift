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

    /// The sample grid of `state`, 8 tiles wide: rows of G(z) for the fixed codes `codes` (64 of them make 8
    /// rows), then for each 8 of the fixed real images `reals` a row of them and a row of their reconstructions
    /// G(E(x)) beneath; a short row is padded with white tiles so each reconstruction sits under its image.
    public static func sampleGrid(_ state: BiganState, codes: Tensor, reals: Tensor) throws -> [UInt8] {
        let columns = 8
        let generated = try state.models.generate(codes)
        let reconstructed = try state.models.generate(try state.models.encode(reals))
        var rows = [try padded(generated, toMultipleOf: columns)]
        for start in stride(from: 0, to: reals.shape[0], by: columns) {
            let shown = start..<min(start + columns, reals.shape[0])
            rows += try [
                padded(reals.rows(shown), toMultipleOf: columns),
                padded(reconstructed.rows(shown), toMultipleOf: columns),
            ]
        }
        var dimensions = reals.shape.dimensions
        dimensions[0] = rows.reduce(0) { $0 + $1.shape[0] }
        return try SampleGrid.png(
            try Tensor(shape: Shape(dimensions), scalars: rows.flatMap(\.scalars)), columns: columns)
    }

    /// `images` followed by white images up to a multiple of `columns`.
    static func padded(_ images: Tensor, toMultipleOf columns: Int) throws -> Tensor {
        let missing = (columns - images.shape[0] % columns) % columns
        guard missing > 0 else { return images }
        var dimensions = images.shape.dimensions
        dimensions[0] += missing
        let white = [Float](repeating: 1, count: missing * images.count / images.shape[0])
        return try Tensor(shape: Shape(dimensions), scalars: images.scalars + white)
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
