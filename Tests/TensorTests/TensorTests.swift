import Tensor
import TestSupport
import Testing

@Suite struct TensorTests {
    /// Small products run on one core; the two large ones are split by rows (m ≥ n) and by columns (n > m).
    @Test(arguments: [(5, 7, 3), (300, 130, 64), (130, 300, 64)])
    func gemmMatchesNaiveProductForEveryTransposition(m: Int, n: Int, k: Int) throws {
        var rng = SeededRandom(seed: 51)
        let a = randomTensor([m * k], &rng), b = randomTensor([k * n], &rng)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = [Float](repeating: 1, count: m * n)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    BLAS.gemm(
                        transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 2, a: ap.baseAddress!,
                        lda: ta ? m : k, b: bp.baseAddress!, ldb: tb ? k : n, beta: 0.5, c: &c, ldc: n)
                }
            }
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for l in 0..<k {
                        let av = a.scalars[ta ? l * m + i : i * k + l], bv = b.scalars[tb ? j * k + l : l * n + j]
                        s += Double(av) * Double(bv)
                    }
                    #expect(abs(Double(c[i * n + j]) - (2 * s + 0.5)) < 1e-5 * Double(k))
                }
            }
        }
    }

    @Test func parallelSlicesCoverEveryIndexOnce() {
        for (count, granularity) in [(0, 1), (1, 1), (7, 1), (1000, 64), (100, 64)] {
            let hits = Locked([Int](repeating: 0, count: count))
            let nestedWorkers = Locked([Int]())
            let workers = Parallel.forEach(count, granularity: granularity) { worker, slice in
                #expect(slice.lowerBound % granularity == 0)
                let nested = Parallel.forEach(4) { _, _ in }
                nestedWorkers.withLock { $0.append(nested) }
                hits.withLock { for i in slice { $0[i] += 1 } }
            }
            #expect(hits.withLock { $0 } == [Int](repeating: 1, count: count))
            #expect(workers >= 1 && workers <= Parallel.workerCount)
            // Inside a parallel region, nested regions run serially.
            if workers > 1 { #expect(nestedWorkers.withLock { $0 }.allSatisfy { $0 == 1 }) }
        }
    }

    /// The finiteness check of a buffer long enough to be split across the workers finds a NaN or an infinity in
    /// any slice.
    @Test func longBuffersAreCheckedWhole() {
        var scalars = [Float](repeating: 1.5, count: 300_001)
        #expect(Tensor(vector: scalars).isFinite)
        for (index, bad) in [(0, Float.nan), (150_000, .infinity), (300_000, -.infinity), (299_999, .nan)] {
            scalars[index] = bad
            #expect(!Tensor(vector: scalars).isFinite, "\(bad) at \(index)")
            scalars[index] = 1.5
        }
    }

    @Test func seededRandomIsReproducibleAndRestorable() throws {
        var a = SeededRandom(seed: 3), b = SeededRandom(seed: 3), c = SeededRandom(seed: 4)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
        var restored = try SeededRandom(state: a.stateWords)
        #expect(restored.next() == a.next())
        // Moments of the normal and uniform generators.
        var rng = SeededRandom(seed: 5)
        let normal = Tensor.normal([100_000], using: &rng)
        let mean = normal.sum() / 100_000, variance = normal.squaredNorm() / 100_000 - mean * mean
        #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.02)
        let uniform = Tensor.kaimingUniform([10_000], fanIn: 16, using: &rng)
        #expect(uniform.maxAbs() <= 0.25 && uniform.maxAbs() > 0.24)
    }

    @Test func shapesAreChecked() throws {
        let t = Tensor.zeros([2, 3, 4])
        #expect(t.shape.sampleCount == 12)
        #expect(throws: TensorError.self) { try t.reshaped([5, 5]) }
        #expect(try t.reshaped([6, 4]).shape == [6, 4])
        var u = Tensor.zeros([2, 3])
        let error = #expect(throws: TensorError.self) { try u.add(Tensor.zeros([3, 2])) }
        #expect(error?.description == "add: expected shape [2, 3], got [3, 2]")
    }

    @Test func rowsAndGather() throws {
        let t = try Tensor(shape: [3, 2], scalars: [0, 1, 2, 3, 4, 5])
        #expect(t.rows(1..<3).scalars == [2, 3, 4, 5])
        #expect(t.gathering(rows: [2, 0]).scalars == [4, 5, 0, 1])
    }

    @Test func workspaceReusesBuffers() {
        let workspace = Workspace()
        let first = workspace.withScratch(1000) { UInt(bitPattern: $0) }
        let second = workspace.withScratch(800) { UInt(bitPattern: $0) }
        #expect(first == second)
        #expect(workspace.pooledCount == 1000)
    }

    /// `--workers` is checked and cannot change the workers once they run (their count decides the slices).
    @Test func requestedWorkersAreCheckedAndFixedAtFirstUse() throws {
        try Parallel.requestWorkers(Parallel.workerCount, from: "--workers")
        #expect(throws: ParallelError.self) { try Parallel.requestWorkers(0, from: "--workers") }
        #expect(throws: ParallelError.self) {
            try Parallel.requestWorkers(Parallel.maximumWorkers + 1, from: "--workers")
        }
        #expect {
            try Parallel.requestWorkers(Parallel.workerCount % Parallel.maximumWorkers + 1, from: "--workers")
        } throws: { "\($0)".contains("after the workers started") }
    }
}
