// The process-wide gate to libhdf5: one lock, error-printing set-up, and error-stack capture.

import CHDF5

#if canImport(Glibc)
    import Glibc
#endif

/// Serialises every libhdf5 call in the process.
///
/// libhdf5 is not thread-safe unless built with `--enable-threadsafe` (Homebrew's and many
/// others' builds are not; Debian's happens to be), so each public operation of this module
/// takes this lock exactly once, does all its libhdf5 work inside, and returns plain Swift values. Code running inside the lock never takes it again (the lock is not
/// recursive), and never releases the last reference to an `HDF5Handle` (whose `deinit` locks):
/// raw identifiers are wrapped into handles only after the lock is released.
public enum HDF5Library {
    /// A pthread mutex (not `Synchronization.Mutex`, whose lock ThreadSanitizer cannot see), never freed.
    nonisolated(unsafe) private static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        return mutex
    }()

    /// Opens libhdf5 once, without its exit-time clean-up: after a failed close (a full disk, `ulimit -f`) libhdf5
    /// keeps a half-closed file whose clean-up at `exit` dereferences freed memory (SIGSEGV after the error was
    /// printed). Every file GradFeat writes is closed explicitly before its atomic rename, so nothing is lost.
    private static let opened: Void = {
        _ = H5dont_atexit()
        _ = H5open()
    }()

    /// Runs `body` holding the process-wide libhdf5 lock, for code that must call the C API
    /// (`import CHDF5`) directly. `body` must not call this module's API: the lock is not recursive.
    public static func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        try locked(body)
    }

    /// Runs `body` while holding the libhdf5 lock, with a cleared HDF5 error stack.
    static func locked<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        _ = opened
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        // Failures are reported through HDF5Error, so HDF5's automatic printing of error
        // stacks to stderr is turned off. Thread-safe builds (such as Debian's) keep this
        // setting and the error stack per thread, hence on every entry.
        _ = H5Eset_auto2(gf_H5E_DEFAULT(), nil, nil)
        _ = H5Eclear2(gf_H5E_DEFAULT())
        return try body()
    }

    /// Takes (and clears) the current HDF5 error stack, one line per entry, outermost call first,
    /// e.g. `H5Fopen(): unable to open file [file signature not found]`. Call with the lock held.
    static func takeErrorStack() -> String {
        let stack = H5Eget_current_stack()
        guard stack >= 0 else { return "(HDF5 reported no error message)" }
        defer { _ = H5Eclose_stack(stack) }
        var lines: [String] = []
        _ = withUnsafeMutablePointer(to: &lines) { linesPointer in
            H5Ewalk2(
                stack, H5E_WALK_DOWNWARD,
                { _, entry, clientData in
                    guard let entry, let clientData else { return 0 }
                    let function = entry.pointee.func_name.map { String(cString: $0) } ?? "?"
                    let detail = entry.pointee.desc.map { String(cString: $0) } ?? ""
                    let minor = HDF5Library.message(for: entry.pointee.min_num)
                    let line = minor.isEmpty ? "\(function)(): \(detail)" : "\(function)(): \(detail) [\(minor)]"
                    clientData.assumingMemoryBound(to: [String].self).pointee.append(line)
                    return 0
                }, linesPointer)
        }
        return lines.isEmpty ? "(HDF5 reported no error message)" : lines.joined(separator: "\n")
    }

    /// The text of one HDF5 error message id (a major or minor error class).
    private static func message(for id: hid_t) -> String {
        let length = H5Eget_msg(id, nil, nil, 0)
        guard length > 0 else { return "" }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        _ = H5Eget_msg(id, nil, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
