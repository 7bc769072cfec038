#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value that threads share, guarded by a pthread mutex: `withLock` gives one thread at a time access to it.
///
/// Used instead of `Synchronization.Mutex` because ThreadSanitizer sees pthread mutexes (it intercepts them) but
/// not the Swift runtime's own lock, and then reports every access that `Mutex` guards as a race; with this lock
/// `scripts/sanitize.sh thread` checks what the lock actually protects.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock (not recursive: `body` must not take it again).
    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
