/// `A X = B` by Gaussian elimination with partial pivoting, in Float64: the independent reference the solver and
/// attribution tests compare against (ridge solutions, problems re-solved without a sample).
public func solveLinearSystem(_ matrix: [[Double]], _ rightHandSides: [[Double]]) -> [[Double]] {
    var (a, b) = (matrix, rightHandSides)
    let (m, c) = (a.count, b[0].count)
    for col in 0..<m {
        let pivot = (col..<m).max { abs(a[$0][col]) < abs(a[$1][col]) } ?? col
        a.swapAt(col, pivot)
        b.swapAt(col, pivot)
        for row in 0..<m where row != col {
            let factor = a[row][col] / a[col][col]
            guard factor != 0 else { continue }
            for j in col..<m { a[row][j] -= factor * a[col][j] }
            for k in 0..<c { b[row][k] -= factor * b[col][k] }
        }
    }
    return (0..<m).map { i in b[i].map { $0 / a[i][i] } }
}
