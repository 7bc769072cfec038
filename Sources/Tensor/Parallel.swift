import CBLAS
import CKernels
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who owns the cores: GradFeat's own workers, always. OpenBLAS runs single-threaded inside each worker.
///
/// Why not OpenBLAS's threads: a convolution's copies (im2col, col2im, permutes) would stay single-threaded, its
/// columns fit a core's L2 cache only in small chunks (too small for a threaded GEMM), and OpenBLAS's idle threads
/// spin (`sched_yield`) for a while after each call, stealing the core from whatever runs next. So GradFeat splits
/// work itself: a convolution by samples, a large GEMM by rows or columns (`BLAS.gemm`).
///
/// Results are reproducible: the slices depend only on the count, the granularity and `workerCount`, whether they
/// run at once or (when another thread holds the workers) one after another; work nested inside a slice runs whole.
public enum Parallel {
    /// The number of workers, fixed at first use: ``requestWorkers(_:from:)``'s (the CLI's `--workers`), else
    /// `GRADFEAT_WORKERS`, else OpenBLAS's thread count at start-up (`OPENBLAS_NUM_THREADS`, `GOTO_NUM_THREADS` or
    /// `OMP_NUM_THREADS`, else the cores this process may run on — under `mpirun`, those bound to its rank). OpenBLAS
    /// is then set to one thread. (With an OpenMP build of OpenBLAS that setting holds for the calling thread only;
    /// Debian's default is the pthreads build.)
    public static let workerCount: Int = {
        let cores = max(1, Int(gradfeat_blas_threads()))
        gradfeat_blas_set_threads(1)
        let requested = requestedWorkers.load(ordering: .acquiring)
        if requested > 0 { return requested }
        return (try? environmentWorkers()) ?? cores
    }()

    /// The most workers a process takes.
    public static let maximumWorkers = 1024

    private static let requestedWorkers = Atomic<Int>(0)

    /// Sets the number of workers before their first use; `source` names the setting in errors (`--workers`).
    /// Throws when `count` is out of range or the workers are already running with another number.
    public static func requestWorkers(_ count: Int, from source: String) throws {
        guard (1...maximumWorkers).contains(count) else {
            throw ParallelError.invalidWorkers("\(source) \(count) is out of range; give 1…\(maximumWorkers)")
        }
        requestedWorkers.store(count, ordering: .releasing)
        guard workerCount == count else {
            throw ParallelError.invalidWorkers(
                "\(source) \(count) comes after the workers started (\(workerCount) of them); set it first")
        }
    }

    /// Throws when `GRADFEAT_WORKERS` is set to something other than a count of workers.
    public static func validateEnvironment() throws { _ = try environmentWorkers() }

    /// `GRADFEAT_WORKERS` as a count, nil when unset or empty.
    static func environmentWorkers() throws -> Int? {
        guard let raw = getenv("GRADFEAT_WORKERS") else { return nil }
        let text = String(cString: raw)
        guard !text.isEmpty else { return nil }
        guard let count = Int(text), (1...maximumWorkers).contains(count) else {
            throw ParallelError.invalidWorkers(
                "GRADFEAT_WORKERS=\(text) is not a count of workers; set it to 1…\(maximumWorkers), or unset it")
        }
        return count
    }

    /// Held while one thread's region runs on the workers; another thread then runs its slices itself.
    private static let busy = Atomic<Bool>(false)
    /// Set on a thread while it runs a slice: regions nested in a slice run whole.
    private static let insideSlice = ThreadFlag()

    /// Calls `body(worker, range)` for `min(workerCount, ⌈count / granularity⌉)` contiguous, balanced slices of
    /// `0..<count` (boundaries at multiples of `granularity`), at once on the workers. Runs `body(0, 0..<count)`
    /// when `count` is below `minimumCount`, when there is one worker, or inside another region's slice. Returns
    /// the number of slices (worker indices `0..<result`).
    ///
    /// `body` must only write memory its slice owns: the slices run on several threads.
    @discardableResult
    public static func forEach(
        _ count: Int, minimumCount: Int = 2, granularity: Int = 1,
        _ body: (_ worker: Int, _ range: Range<Int>) -> Void
    ) -> Int {
        let units = (count + granularity - 1) / granularity
        let workers = min(workerCount, units)
        guard count >= minimumCount, workers > 1, !insideSlice.isSet else {
            if count > 0 { body(0, 0..<count) }
            return 1
        }
        func slice(_ worker: Int) -> Range<Int> {
            min(
                count, units * worker / workers * granularity)..<min(
                    count, units * (worker + 1) / workers * granularity)
        }
        // The caller's choice of C kernel build, if it made one (tests), holds in its workers too.
        let kernelBuild = gf_thread_isa()
        func run(_ worker: Int) {
            insideSlice.set(true)
            let callersBuild = gf_thread_isa()
            gf_set_thread_isa(kernelBuild)
            defer {
                gf_set_thread_isa(callersBuild)
                insideSlice.set(false)
            }
            body(worker, slice(worker))
        }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            // Another thread has the workers: the same slices, one after another (the same results).
            for worker in 0..<workers { run(worker) }
            return workers
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(run) { run in
            // The closure captures raw buffers; the slices are disjoint by contract, which the compiler cannot see.
            let shared = UncheckedSendable(run)
            DispatchQueue.concurrentPerform(iterations: workers) { shared.value($0) }
        }
        return workers
    }
}

extension Parallel {
    /// Runs an element-wise loop over `0..<count` in slices across the workers when it is long enough to pay for
    /// the hand-off (64 Ki elements), else in one call.
    public static func forEachSlice(of count: Int, _ body: (Range<Int>) -> Void) {
        forEachSlice(of: count) { _, range in body(range) }
    }

    /// `forEachSlice`, telling `body` which worker runs the slice (for per-worker partial results).
    public static func forEachSlice(of count: Int, _ body: (_ worker: Int, Range<Int>) -> Void) {
        forEach(count, minimumCount: 1 << 16, granularity: 4096, body)
    }
}

/// A per-thread boolean (a pthread key), false on every thread until set.
final class ThreadFlag: @unchecked Sendable {
    private var key = pthread_key_t()

    init() { pthread_key_create(&key, nil) }
    deinit { pthread_key_delete(key) }

    var isSet: Bool { pthread_getspecific(key) != nil }

    func set(_ value: Bool) {
        // Any non-nil pointer marks the thread; nothing is allocated.
        pthread_setspecific(key, value ? UnsafeRawPointer(bitPattern: 1) : nil)
    }
}

/// A value passed to other threads under a contract the compiler cannot check (see `Parallel.forEach`).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A worker setting GradFeat cannot use.
public enum ParallelError: Error, CustomStringConvertible, Equatable {
    case invalidWorkers(String)

    public var description: String {
        switch self {
        case let .invalidWorkers(message): return message
        }
    }
}
