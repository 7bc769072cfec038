import Cluster
import Layers
import Tensor

/// Micro-batched steps, the same bits for any number of ranks. Each global mini-batch of `B` rows is cut into
/// `M = configuration.microBatches` fixed parts (``Cluster/share(of:rank:size:)``); rank `r` computes the parts of its share of
/// `0..<M`, each with its own dropout and augmentation seed drawn from the step's seed and the part's index, and
/// every rank sums the parts in the order of the parts (``Communicator/orderedSum(parts:count:partCount:)``):
/// ```
/// g = (Σ_k n_k · ∇L_k) / Σ_k n_k,    n_k = the loss's normaliser of part k (its rows, for a mean loss)
/// ```
/// which is the gradient of the whole batch's loss. Which rank computed a part never enters a number, so 1, 2 or 3
/// ranks (up to M) give the same parameters bit for bit. What still changes the bits: `M` itself, and the worker
/// count per rank (it slices each part's GEMMs). The cost: every rank receives all M gradients (M · P floats per
/// step, P the parameters) where an allreduce moves about 2P, and holds its own parts' gradients at once.
extension Trainer {
    /// Where this rank's micro-batches sit in a global batch: the rows it reads, in order, and for each of its
    /// parts the part's index and size.
    struct MicroBatchLayout {
        var rows: [Int]
        var parts: [(index: Int, size: Int)]
    }

    func microBatchLayout(of batch: [Int]) -> MicroBatchLayout {
        var layout = MicroBatchLayout(rows: [], parts: [])
        for k in communicator.share(of: configuration.microBatches) {
            let part = Cluster.share(of: batch.count, rank: k, size: configuration.microBatches)
            layout.rows += batch[part]
            layout.parts.append((k, part.count))
        }
        return layout
    }

    /// The seed of micro-batch `k` in a step whose seed is `seed`.
    static func microBatchSeed(_ seed: UInt64, part k: Int) -> UInt64 {
        var rng = SeededRandom(seed: seed ^ (0xA5A5_3C3C_0F0F_9696 &* UInt64(k + 1)))
        return rng.next()
    }

    /// Throws, saying why, when this run cannot be micro-batched (`validate` has checked `micro_batches` against
    /// the batch size).
    func checkMicroBatching(_ extractor: any FeatureExtractor, examples: Int) throws {
        let ranks = communicator.size
        guard examples >= ranks else {
            throw GradFeatError.invalidConfiguration(
                "the training set has \(examples) examples, fewer than the \(ranks) ranks; run on fewer ranks or more data"
            )
        }
        guard configuration.microBatches >= ranks else {
            throw GradFeatError.invalidConfiguration(
                "--micro-batches \(configuration.microBatches) is fewer than the \(ranks) ranks: every rank needs a micro-batch; "
                    + "pass --micro-batches \(ranks) or more (a multiple of the ranks balances them)")
        }
        guard !extractor.updatesStatisticsInTraining else {
            throw GradFeatError.invalidConfiguration(
                "this model updates batch-norm statistics as it trains, which micro-batches would split; train it "
                    + "in one process without --micro-batches")
        }
    }

    /// One step over this rank's micro-batches `layout` of the global batch (`inputs`, `targets`: its rows in
    /// layout order); returns the global batch's loss.
    func microBatchedStep<Extractor: FeatureExtractor>(
        _ extractor: inout Extractor, inputs: Tensor, targets: Targets, layout: MicroBatchLayout, loss: any Loss,
        optimizer: inout any Optimizer, mode: Mode, iteration: Int
    ) throws -> Double {
        let shapes = extractor.parameters.map(\.shape)
        let count = shapes.reduce(0) { $0 + $1.count }
        // Each part: its gradients times its normaliser n_k, then n_k·L_k and n_k.
        var parts: [[Float]] = []
        var offset = 0
        for (k, size) in layout.parts {
            var part = [Float](repeating: 0, count: count + 2)
            defer { offset += size }
            guard size > 0 else {
                parts.append(part)
                continue
            }
            let rows = Array(offset..<(offset + size))
            let partMode = Mode.training(seed: Self.microBatchSeed(mode.seed, part: k))
            var x = inputs.rows(offset..<(offset + size))
            if let augmentation { x = try augmentation.apply(to: x, seed: partMode.seed) }
            let y = targets.gathering(rows)
            let (value, weight, gradients) = try Self.divergenceChecked(iteration: iteration) {
                let output = try extractor.forward(x, mode: partMode)
                let evaluated = try loss.evaluate(logits: output.logits, targets: y)
                let weight = loss.normalizer(for: y, shape: output.logits.shape)
                return (
                    evaluated.loss, weight,
                    try extractor.parameterGradients(output, logitsGradient: evaluated.gradient)
                )
            }
            part.withUnsafeMutableBufferPointer { out in
                var at = 0
                let scale = Float(weight)
                for gradient in gradients {
                    gradient.withUnsafeBufferPointer { g in
                        for i in 0..<g.count { out[at + i] = g[i] * scale }
                        at += g.count
                    }
                }
                out[count] = Float(value * weight)
                out[count + 1] = scale
            }
            parts.append(part)
        }
        let sum = try communicator.orderedSum(parts: parts, count: count + 2, partCount: configuration.microBatches)
        let total = sum[count + 1]
        guard total > 0 else { throw GradFeatError.invalidConfiguration("a global batch of no rows at \(iteration)") }
        var gradients: [Tensor] = []
        var at = 0
        for shape in shapes {
            gradients.append(
                Tensor(shape: shape) { g in
                    for i in 0..<g.count { g[i] = sum[at + i] / total }
                })
            at += shape.count
        }
        try Self.apply(
            gradients, to: &extractor, optimizer: &optimizer, clipNorm: configuration.clipNorm, iteration: iteration)
        return Double(sum[count]) / Double(total)
    }
}
