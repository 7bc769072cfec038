/// Mini-batches of indices `0..<count`, shuffled reproducibly.
///
/// Epoch `e` of seed `s` always yields the same batches (the permutation is drawn from
/// `DatasetRandom.derived(seed: s, stream: e)`), so a run can be resumed at any epoch.
///
/// ```swift
/// for batch in BatchIterator(count: train.count, batchSize: 128, seed: 42, epoch: epoch) {
///     let x = train.floatImages(batch, normalization: .cifar10)
/// }
/// ```
public struct BatchIterator: Sequence, IteratorProtocol, Sendable {
    /// Index order of this epoch.
    public let order: [Int]
    /// Indices per batch (the last one may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Whether a final incomplete batch is dropped.
    public let dropLast: Bool
    private var position = 0

    /// - Parameters:
    ///   - count: number of items.
    ///   - batchSize: items per batch.
    ///   - shuffle: `false` keeps `0..<count` in order.
    ///   - seed: selects the permutation, with `epoch`.
    ///   - epoch: the pass over the data; each draws its own permutation.
    ///   - dropLast: drop a final batch smaller than `batchSize`.
    public init(
        count: Int, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0, epoch: Int = 0,
        dropLast: Bool = false
    ) {
        precondition(batchSize > 0, "batchSize must be positive")
        precondition(count >= 0, "count must not be negative")
        if shuffle {
            var random = DatasetRandom.derived(seed: seed, stream: UInt64(epoch))
            order = random.permutation(count)
        } else {
            order = Array(0..<count)
        }
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    /// Number of batches in the epoch.
    public var batchCount: Int {
        dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
    }

    /// The next batch of indices, or `nil` at the end of the epoch.
    public mutating func next() -> ArraySlice<Int>? {
        let remaining = order.count - position
        guard remaining > 0, !(dropLast && remaining < batchSize) else { return nil }
        let end = position + Swift.min(batchSize, remaining)
        defer { position = end }
        return order[position..<end]
    }
}
