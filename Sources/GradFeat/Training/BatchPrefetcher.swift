import Dispatch
import Layers
import Tensor

/// Reads the next mini-batch of a streamed source on a background thread while the current step computes, so that
/// a step from disk costs what a step from memory does once the disk keeps up.
///
/// The caller names each batch it takes and the one it will take next; batches are exactly those the source gives
/// for those indices, so prefetching never changes a result. For sources in memory it reads in the caller's thread.
public final class BatchPrefetcher: @unchecked Sendable {
    public typealias Batch = (inputs: Tensor, targets: Targets)
    // `pending` is touched only by the caller's thread; the background read fills its slot, and waiting on its
    // group orders that write before the caller's read.
    private let source: any BatchSource
    private let queue = DispatchQueue(label: "gradfeat.prefetch", qos: .userInitiated)
    private var pending: (indices: [Int], group: DispatchGroup, slot: Slot)?

    private final class Slot: @unchecked Sendable {
        var result: Result<Batch, any Error>?
    }

    public init(_ source: any BatchSource) { self.source = source }

    deinit { pending?.group.wait() }

    /// The batch at `indices`; starts reading `next` (when given and the source streams) before returning.
    public func batch(_ indices: [Int], thenPrefetch next: [Int]?) throws -> Batch {
        let result: Result<Batch, any Error>
        if let pending, pending.indices == indices {
            pending.group.wait()
            result = pending.slot.result ?? Result { try source.batch(indices) }
        } else {
            pending?.group.wait()
            result = Result { try source.batch(indices) }
        }
        pending = nil
        if let next, source.isStreamed {
            let (group, slot, source) = (DispatchGroup(), Slot(), self.source)
            queue.async(group: group) { slot.result = Result { try source.batch(next) } }
            pending = (next, group, slot)
        }
        return try result.get()
    }
}
