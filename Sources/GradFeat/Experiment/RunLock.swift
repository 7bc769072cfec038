import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a run folder (`.lock`, `flock`), held while a run writes there, so that two runs into one
/// folder cannot mix their checkpoints and caches. Released when the value is freed, or when the process ends.
public final class RunLock {
    public let url: URL
    private let descriptor: Int32

    /// Takes the lock on `folder` (creating the folder), or throws naming the folder when another run holds it.
    public init(_ folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(".lock")
        // Opened and locked before any stored property is set: an init that throws after setting them all runs
        // `deinit`, which would close the descriptor a second time — by then perhaps another file's.
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw GradFeatError.invalidConfiguration(
                "\(folder.path): cannot create its lock file .lock (\(String(cString: strerror(errno)))); "
                    + "check that the folder is writable")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            // The holder wrote its process id into the file when it took the lock.
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(descriptor, &buffer, buffer.count, 0)
            close(descriptor)
            let holder =
                n > 0
                ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            let who = Int32(holder).map { "process \($0)" } ?? "another process"
            throw GradFeatError.invalidConfiguration(
                "\(folder.path) is in use by another gradfeat run (\(who) holds its lock \(url.lastPathComponent)); "
                    + "wait for it to finish, or pass another --output")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
        self.url = url
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
