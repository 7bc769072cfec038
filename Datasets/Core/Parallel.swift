import Dispatch
import Foundation

/// Runs a loop over `0..<count` in contiguous chunks on several threads.
enum Parallel {
    /// Default number of worker threads: the active processor count.
    static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Calls `body` on disjoint chunks covering `0..<count`, with up to `threads` running at once.
    /// If any chunk throws, the error of the lowest-indexed failing chunk is rethrown.
    static func forEachChunk(
        count: Int, threads: Int, _ body: (Range<Int>) throws(DatasetError) -> Void
    ) throws(DatasetError) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        if workers == 1 {
            try body(0..<count)
            return
        }
        // Several chunks per worker balance uneven image sizes.
        let chunks = min(count, workers * 16)
        let failures = FirstFailure()
        withoutActuallyEscaping(body) { escapable in
            let work = UncheckedSendable(value: escapable)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let lower = count * chunk / chunks
                let upper = count * (chunk + 1) / chunks
                do throws(DatasetError) {
                    try work.value(lower..<upper)
                } catch {
                    failures.record(error, at: chunk)
                }
            }
        }
        if let error = failures.first { throw error }
    }
}

/// The error of the lowest-indexed failing chunk.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var index = Int.max
    private var error: DatasetError?

    func record(_ error: DatasetError, at index: Int) {
        lock.lock()
        if index < self.index {
            self.index = index
            self.error = error
        }
        lock.unlock()
    }

    var first: DatasetError? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
