// Turning a list of row indices into hyperslab runs and back.

/// How to serve a list of row indices in any order with one HDF5 selection.
///
/// libhdf5 transfers a multi-block selection in file order and merges duplicates, so rows are
/// read for the sorted unique indices (grouped into runs of consecutive rows, one hyperslab
/// block each) and then gathered into the requested order; writes scatter the other way.
struct RowIndexPlan {
    /// Runs of consecutive rows covering the sorted unique indices.
    let runs: [Range<Int>]
    /// Number of distinct indices.
    let uniqueCount: Int
    /// For each requested position, the index's position among the sorted unique indices;
    /// nil when the request is already strictly increasing (no reordering needed).
    let ranks: [Int]?

    init(_ indices: [Int]) {
        let sortedUnique: [Int]
        if zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }) {
            sortedUnique = indices
            ranks = nil
        } else {
            let order = indices.indices.sorted { indices[$0] < indices[$1] }
            var unique: [Int] = []
            var ranks = [Int](repeating: 0, count: indices.count)
            for position in order {
                if unique.last != indices[position] { unique.append(indices[position]) }
                ranks[position] = unique.count - 1
            }
            sortedUnique = unique
            self.ranks = ranks
        }
        uniqueCount = sortedUnique.count
        var runs: [Range<Int>] = []
        for index in sortedUnique {
            if let last = runs.last, last.upperBound == index {
                runs[runs.count - 1] = last.lowerBound..<index + 1
            } else {
                runs.append(index..<index + 1)
            }
        }
        self.runs = runs
    }

    /// Whether some index is requested more than once.
    var hasDuplicates: Bool { ranks.map { uniqueCount < $0.count } ?? false }

    /// Rows of `sorted` (one per unique index, `rowSize` elements each) in the requested order.
    func gather<T: BitwiseCopyable>(_ sorted: [T], rowSize: Int) -> [T] {
        guard let ranks else { return sorted }
        return [T](unsafeUninitializedCapacity: ranks.count * rowSize) { output, initialized in
            sorted.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress, let target = output.baseAddress else { return }
                for (position, rank) in ranks.enumerated() {
                    (target + position * rowSize).initialize(from: base + rank * rowSize, count: rowSize)
                }
            }
            initialized = ranks.count * rowSize
        }
    }

    /// Rows of `values` (in the requested order) rearranged into sorted-index order.
    /// Requires distinct indices.
    func scatter<T: BitwiseCopyable>(_ values: [T], rowSize: Int) -> [T] {
        guard let ranks else { return values }
        return [T](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress, let target = output.baseAddress else { return }
                for (position, rank) in ranks.enumerated() {
                    (target + rank * rowSize).initialize(from: base + position * rowSize, count: rowSize)
                }
            }
            initialized = values.count
        }
    }
}
