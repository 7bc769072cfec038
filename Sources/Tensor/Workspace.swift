/// A pool of scratch buffers (im2col columns, transposes) reused across steps.
///
/// After the first step of a given shape every request is served from the pool, so the hot loop does not call the
/// allocator for scratch space. Buffers are returned to the pool when `withScratch` returns.
public final class Workspace: Sendable {
    /// The workspace the layers use unless told otherwise.
    public static let shared = Workspace()

    /// A pooled allocation; the pool alone owns it while it is free, so passing it between threads is safe.
    private struct Block: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
    }

    private let free = Locked<[Block]>([])

    public init() {}

    deinit {
        free.withLock { buffers in
            for block in buffers { block.pointer.deallocate() }
            buffers.removeAll()
        }
    }

    /// Lends a buffer of at least `count` floats (contents undefined) for the duration of `body`.
    public func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let block = take(max(count, 1))
        defer { give(block) }
        return try body(block.pointer)
    }

    /// Lends two buffers at once.
    public func withScratch<R>(
        _ first: Int, _ second: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> R
    ) rethrows -> R {
        try withScratch(first) { a in try withScratch(second) { b in try body(a, b) } }
    }

    /// The number of floats the pool currently holds (for memory reports).
    public var pooledCount: Int { free.withLock { $0.reduce(0) { $0 + $1.count } } }

    private func take(_ count: Int) -> Block {
        let reused: Block? = free.withLock { buffers in
            // The smallest pooled buffer that fits.
            var best: Int?
            for (i, b) in buffers.enumerated() where b.count >= count {
                if best == nil || b.count < buffers[best!].count { best = i }
            }
            return best.map { buffers.remove(at: $0) }
        }
        return reused ?? Block(pointer: .allocate(capacity: count), count: count)
    }

    private func give(_ block: Block) {
        free.withLock { $0.append(block) }
    }
}
