import CBLAS
import Dispatch
import Synchronization

/// Who owns the cores: GradFeat's own workers, always. OpenBLAS runs single-threaded inside each worker.
///
/// Why not OpenBLAS's threads: a convolution's copies (im2col, col2im, permutes) would stay single-threaded, its
/// columns fit a core's L2 cache only in small chunks (too small for a threaded GEMM), and OpenBLAS's idle threads
/// spin (`sched_yield`) for a while after each call, stealing the core from whatever runs next. So GradFeat splits
/// work itself: a convolution by samples, a large GEMM by rows or columns (`BLAS.gemm`).
public enum Parallel {
    /// The number of workers: OpenBLAS's thread count at start-up (`OPENBLAS_NUM_THREADS`, else the cores), after
    /// which OpenBLAS is set to one thread.
    public static let workerCount: Int = {
        let cores = max(1, Int(gradfeat_blas_threads()))
        gradfeat_blas_set_threads(1)
        return cores
    }()

    /// True while a parallel region runs (nested regions run serially).
    private static let active = Atomic<Bool>(false)

    /// Calls `body(worker, range)` for `workerCount` contiguous, balanced slices of `0..<count` at once (fewer when
    /// `count` is small; slice boundaries are multiples of `granularity`). Runs serially when `count` is below
    /// `minimumCount` or when called from inside another region. Returns the number of workers that ran (worker
    /// indices `0..<result`).
    ///
    /// `body` must only write memory its slice owns: it runs on several threads.
    @discardableResult
    public static func forEach(
        _ count: Int, minimumCount: Int = 2, granularity: Int = 1,
        _ body: (_ worker: Int, _ range: Range<Int>) -> Void
    ) -> Int {
        let units = (count + granularity - 1) / granularity
        let workers = min(workerCount, units)
        guard count >= minimumCount, workers > 1,
            active.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else {
            if count > 0 { body(0, 0..<count) }
            return 1
        }
        defer { active.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            // The closure captures raw buffers; the slices are disjoint by contract, which the compiler cannot see.
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = min(count, units * worker / workers * granularity)
                let end = min(count, units * (worker + 1) / workers * granularity)
                shared.value(worker, start..<end)
            }
        }
        return workers
    }
}

extension Parallel {
    /// Runs an element-wise loop over `0..<count` in slices across the workers when it is long enough to pay for
    /// the hand-off (64 Ki elements), else in one call.
    public static func forEachSlice(of count: Int, _ body: (Range<Int>) -> Void) {
        forEach(count, minimumCount: 1 << 16, granularity: 4096) { _, range in body(range) }
    }
}

/// A value passed to other threads under a contract the compiler cannot check (see `Parallel.forEach`).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
