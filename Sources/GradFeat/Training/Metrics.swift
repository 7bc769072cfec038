import Layers
import Tensor

/// Classification metrics: top-1 accuracy and the confusion matrix (single-label), per-class average precision and
/// its mean (multi-label, VOC-style, ignoring difficult entries).
public struct Metrics: Sendable, Codable, Equatable {
    public var count: Int
    public var accuracy: Double?
    /// `confusion[true][predicted]`.
    public var confusion: [[Int]]?
    public var averagePrecision: [Double]?
    public var meanAveragePrecision: Double?
    public var loss: Double?

    /// The headline number: accuracy for single-label, mAP for multi-label.
    public var headline: Double { accuracy ?? meanAveragePrecision ?? loss ?? .nan }
    public var headlineName: String { accuracy != nil ? "accuracy" : meanAveragePrecision != nil ? "mAP" : "loss" }

    public init(logits: Tensor, targets: Targets, loss: Double? = nil) {
        let (n, k) = (logits.shape[0], logits.shape[1])
        count = n
        self.loss = loss
        switch targets {
        case let .classes(labels):
            var matrix = Array(repeating: Array(repeating: 0, count: k), count: k)
            var correct = 0
            logits.withUnsafeBufferPointer { z in
                for row in 0..<n {
                    var best = 0
                    for j in 1..<max(k, 1) where z[row * k + j] > z[row * k + best] { best = j }
                    if best == labels[row] { correct += 1 }
                    if labels[row] < k { matrix[labels[row]][best] += 1 }
                }
            }
            accuracy = Double(correct) / Double(max(n, 1))
            confusion = matrix
        case let .multiLabel(flags, classCount):
            let aps = (0..<classCount).map { c in
                Metrics.averagePrecision(
                    scores: (0..<n).map { logits.scalars[$0 * k + c] },
                    flags: (0..<n).map { flags[$0 * classCount + c] })
            }
            averagePrecision = aps
            let valid = aps.filter { !$0.isNaN }
            meanAveragePrecision = valid.isEmpty ? .nan : valid.reduce(0, +) / Double(valid.count)
        case .values:
            break // regression: the loss is the measure
        }
    }

    /// Non-interpolated average precision: the mean of the precision at each positive, ranked by score; entries
    /// flagged difficult (−1) are left out. NaN when the class has no positive.
    public static func averagePrecision(scores: [Float], flags: [Int8]) -> Double {
        let ranked = zip(scores, flags).filter { $0.1 >= 0 }.sorted { $0.0 > $1.0 }
        let positives = ranked.filter { $0.1 > 0 }.count
        guard positives > 0 else { return .nan }
        var hits = 0, total = 0.0
        for (rank, entry) in ranked.enumerated() where entry.1 > 0 {
            hits += 1
            total += Double(hits) / Double(rank + 1)
        }
        return total / Double(positives)
    }
}

/// Runs an extractor over a data set in evaluation mode and measures it.
public struct Evaluator: Sendable {
    public var batchSize: Int

    public init(batchSize: Int = 256) { self.batchSize = batchSize }

    /// The logits of every sample, in order.
    public func logits(_ extractor: any FeatureExtractor, on data: some BatchSource) throws -> Tensor {
        var rows: [Float] = []
        var classes = 0
        let prefetcher = BatchPrefetcher(data)
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let next = start + batchSize
            let (x, _) = try prefetcher.batch(
                Array(start..<min(next, data.count)),
                thenPrefetch: next < data.count ? Array(next..<min(next + batchSize, data.count)) : nil)
            let logits = try extractor.logits(x)
            classes = logits.shape[1]
            rows.append(contentsOf: logits.scalars)
        }
        return try Tensor(shape: [data.count, classes], scalars: rows)
    }

    public func evaluate(_ extractor: any FeatureExtractor, on data: some BatchSource, loss: any Loss) throws -> Metrics
    {
        let logits = try logits(extractor, on: data)
        let targets = try data.allTargets
        return Metrics(logits: logits, targets: targets, loss: try loss.evaluate(logits: logits, targets: targets).loss)
    }
}
