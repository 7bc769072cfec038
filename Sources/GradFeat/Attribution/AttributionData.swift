import Layers
import Tensor

/// A data set as an attribution reads it: the model's Jacobian rows, logits and labels, computed a chunk at a time
/// on demand, so that a pass over the training set holds one chunk's rows and never all of them.
public struct AttributionData {
    /// One chunk: rows of `rows.count` samples, their logits `[n, c]` and single labels.
    public struct Chunk: Sendable {
        public var rows: JacobianRows
        public var logits: Tensor
        public var labels: [Int]

        public init(rows: JacobianRows, logits: Tensor, labels: [Int]) {
            self.rows = rows
            self.logits = logits
            self.labels = labels
        }
    }

    /// The samples N.
    public let count: Int
    /// The samples of a chunk (the last may be shorter).
    public let chunkSize: Int
    private let make: (Range<Int>) throws -> Chunk

    /// Chunks made by `make` for each range of samples.
    public init(count: Int, chunkSize: Int, make: @escaping (Range<Int>) throws -> Chunk) {
        self.count = count
        self.chunkSize = max(1, chunkSize)
        self.make = make
    }

    /// The rows `rows(inputs)` and logits `logits(inputs)` of `data`'s batches; refuses multi-label targets (the
    /// scores are of one true class per sample).
    public init(
        data: any BatchSource, chunkSize: Int = 256,
        rowsAndLogits: @escaping (Tensor) throws -> (rows: JacobianRows, logits: Tensor)
    ) {
        self.init(count: data.count, chunkSize: chunkSize) { range in
            let (inputs, targets) = try data.batch(Array(range))
            guard case let .classes(labels) = targets else {
                throw GradFeatError.invalidConfiguration(
                    "attribution needs one label per sample; this data set is multi-label")
            }
            let (rows, logits) = try rowsAndLogits(inputs)
            guard rows.count == labels.count, logits.rank == 2, logits.shape[0] == labels.count else {
                throw TensorError.shapeMismatch(
                    operation: "attribution rows and logits of a chunk",
                    expected: [labels.count], got: logits.shape)
            }
            return Chunk(rows: rows, logits: logits, labels: labels)
        }
    }

    /// The exact rows of a model that gives them.
    public init(model: some JacobianRowsProvider, data: any BatchSource, chunkSize: Int = 256) {
        self.init(data: data, chunkSize: chunkSize) { try model.jacobianRowsAndLogits($0) }
    }

    /// The rows of a gradient model through `projection` (approximate scores: see `ProjectableJacobianRows`).
    public init(
        model: some ProjectableJacobianRows, projection: KroneckerProjection, data: any BatchSource,
        chunkSize: Int = 256
    ) {
        self.init(data: data, chunkSize: chunkSize) { inputs in
            (
                try model.projectedJacobianRows(inputs, projection: projection),
                try model.forward(inputs, mode: .evaluation).logits
            )
        }
    }

    /// The chunk of samples `range`.
    public func chunk(_ range: Range<Int>) throws -> Chunk { try make(range) }

    /// All samples as one chunk (for the test samples, which every training chunk is scored against).
    public func all() throws -> Chunk {
        var separable: [Float] = [], dense: [Float] = [], logits: [Float] = [], labels: [Int] = []
        var rowShape: [Int] = [], classes = 0
        try forEachChunk { _, chunk in
            switch chunk.rows {
            case let .classSeparable(phi):
                separable += phi.scalars
                rowShape = Array(phi.shape.dimensions.dropFirst())
            case let .dense(j):
                dense += j.scalars
                rowShape = Array(j.shape.dimensions.dropFirst())
            }
            guard separable.isEmpty || dense.isEmpty else {
                throw GradFeatError.invalidConfiguration("attribution: a data set's chunks give rows of two kinds")
            }
            logits += chunk.logits.scalars
            labels += chunk.labels
            classes = chunk.logits.shape[1]
        }
        let n = labels.count
        let rows: JacobianRows =
            dense.isEmpty
            ? .classSeparable(try Tensor(shape: Shape([n] + rowShape), scalars: separable))
            : .dense(try Tensor(shape: Shape([n] + rowShape), scalars: dense))
        return Chunk(rows: rows, logits: try Tensor(shape: [n, classes], scalars: logits), labels: labels)
    }

    /// Every chunk in order, with the index of its first sample; `first`, when given, is the first chunk already
    /// made (so it is not computed again).
    public func forEachChunk(first: Chunk? = nil, _ body: (_ start: Int, _ chunk: Chunk) throws -> Void) throws {
        for start in stride(from: 0, to: count, by: chunkSize) {
            if start == 0, let first {
                try body(0, first)
                continue
            }
            try body(start, try make(start..<min(start + chunkSize, count)))
        }
    }
}
