/// The k largest and k smallest scores of each test row, kept while the score matrix arrives a block of training
/// columns at a time, so the lists need no `n_test × N` matrix.
///
/// Ties are broken by the lower training index, so the lists equal those of sorting each whole row.
public struct AttributionRanking: Sendable {
    public let rows: Int
    public let k: Int
    /// `[rows, k]` row-major: the most helpful training indices by decreasing score, and their scores.
    public private(set) var top: [Int]
    public private(set) var topScores: [Double]
    /// `[rows, k]`: the most harmful by increasing score.
    public private(set) var bottom: [Int]
    public private(set) var bottomScores: [Double]
    private var filled = 0

    public init(rows: Int, k: Int) {
        self.rows = rows
        self.k = max(0, k)
        top = []; topScores = []; bottom = []; bottomScores = []
        top.reserveCapacity(rows * k)
    }

    /// Merges the block `scores` [rows, columns] row-major, whose column j is training sample `start + j`.
    public mutating func add(_ scores: [Double], columns: Int, start: Int) {
        guard rows > 0, columns > 0 else { return }
        let kept = min(k, filled + columns)
        var newTop = [Int](), newTopScores = [Double](), newBottom = [Int](), newBottomScores = [Double]()
        for row in 0..<rows {
            var candidates: [(index: Int, score: Double)] = (0..<columns).map {
                (start + $0, scores[row * columns + $0])
            }
            let previous = min(k, filled)
            for i in 0..<previous {
                candidates.append((top[row * previous + i], topScores[row * previous + i]))
                candidates.append((bottom[row * previous + i], bottomScores[row * previous + i]))
            }
            let higher = { (a: (index: Int, score: Double), b: (index: Int, score: Double)) in
                a.score != b.score ? a.score > b.score : a.index < b.index
            }
            candidates.sort(by: higher)
            var seen = Set<Int>()
            let unique = candidates.filter { seen.insert($0.index).inserted }
            for candidate in unique.prefix(kept) {
                newTop.append(candidate.index)
                newTopScores.append(candidate.score)
            }
            for candidate in unique.suffix(kept).reversed() {
                newBottom.append(candidate.index)
                newBottomScores.append(candidate.score)
            }
        }
        (top, topScores, bottom, bottomScores) = (newTop, newTopScores, newBottom, newBottomScores)
        filled += columns
    }

    /// The lists' length: k, or N when fewer training samples were seen.
    public var length: Int { min(k, filled) }
}
