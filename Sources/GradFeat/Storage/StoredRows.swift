import Foundation
import HDF5

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The rows of a contiguous dataset read straight from its file with `pread`, in any order and from any thread —
/// no libhdf5 lock, no chunk cache — so that a shuffled mini-batch costs one read per row at page-cache speed.
///
/// The file is checked before and after every read: a file truncated, rewritten or replaced while a run streams it
/// is an error naming the file and its sizes, never a batch of stale or half-written rows.
final class StoredRows: @unchecked Sendable {
    // Every property is fixed at opening; `pread` on one descriptor is safe from concurrent threads.
    let url: URL
    let storage: ContiguousStorage
    private let descriptor: Int32
    private let identity: Identity

    /// What a file is, for noticing that it changed: its inode, size and modification time.
    private struct Identity: Equatable {
        var device: UInt64, inode: UInt64, size: Int, seconds: Int, nanoseconds: Int

        init(_ status: stat) {
            device = UInt64(truncatingIfNeeded: status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int(status.st_size)
            #if canImport(Darwin)
                seconds = Int(status.st_mtimespec.tv_sec)
                nanoseconds = Int(status.st_mtimespec.tv_nsec)
            #else
                seconds = Int(status.st_mtim.tv_sec)
                nanoseconds = Int(status.st_mtim.tv_nsec)
            #endif
        }

        var modified: String {
            let date = Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9)
            return ISO8601DateFormatter().string(from: date)
        }
    }

    /// Opens `url`, whose dataset lies at `storage`; throws when the file is shorter than the dataset claims.
    init(url: URL, storage: ContiguousStorage) throws {
        self.url = url
        self.storage = storage
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw GradFeatError.damagedFile(
                path: url.path, problem: "cannot be opened (\(String(cString: strerror(errno))))",
                fix: "check that it exists and is readable")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw GradFeatError.damagedFile(
                path: url.path, problem: "cannot be examined (\(String(cString: strerror(errno))))",
                fix: "check the file system")
        }
        // Checked before `identity` is set: once every property is, a throw runs `deinit`, which would close the
        // descriptor a second time — by then perhaps another thread's newly opened file.
        let opened = Identity(status)
        let (end, overflow) = storage.offset.addingReportingOverflow(storage.byteCount)
        guard !overflow, end <= opened.size else {
            close(descriptor)
            throw GradFeatError.damagedFile(
                path: url.path,
                problem: "it claims \(storage.rowCount) rows of \(storage.rowBytes) bytes from byte \(storage.offset), "
                    + "but the file holds \(opened.size) bytes: it is truncated or damaged",
                fix: "delete it to have it rebuilt")
        }
        identity = opened
    }

    deinit { close(descriptor) }

    /// Reads the rows at `indices` into `buffer` (`indices.count × rowBytes` bytes), row `indices[k]` at position
    /// `k`. Rows are read in ascending file order, which lets the kernel merge neighbours and read ahead.
    func read(_ indices: [Int], into buffer: UnsafeMutableRawBufferPointer) throws {
        let rowBytes = storage.rowBytes
        precondition(buffer.count == indices.count * rowBytes, "buffer does not hold \(indices.count) rows")
        if let bad = indices.first(where: { !(0..<storage.rowCount).contains($0) }) {
            throw GradFeatError.invalidConfiguration(
                "\(url.path): row \(bad) is out of range; the file holds \(storage.rowCount) rows")
        }
        try requireUnchanged()
        guard let base = buffer.baseAddress else { return }
        let ascending = indices.indices.sorted(by: { indices[$0] < indices[$1] })
        // Cold rows: asking for all of them first lets the disk serve them in parallel, rather than one `pread`'s
        // latency after another (a hint; pages already cached make it a no-op).
        for position in ascending {
            adviseWillNeed(at: storage.offset + indices[position] * rowBytes, count: rowBytes)
        }
        for position in ascending {
            try readFully(
                base + position * rowBytes, count: rowBytes, at: storage.offset + indices[position] * rowBytes)
        }
        try requireUnchanged()
    }

    /// Asks the kernel to start reading a range (Linux `posix_fadvise`, Darwin `F_RDADVISE`); only a hint.
    private func adviseWillNeed(at offset: Int, count: Int) {
        #if canImport(Darwin)
            var advice = radvisory(ra_offset: off_t(offset), ra_count: Int32(clamping: count))
            _ = fcntl(descriptor, F_RDADVISE, &advice)
        #else
            _ = posix_fadvise(descriptor, off_t(offset), off_t(count), Int32(POSIX_FADV_WILLNEED))
        #endif
    }

    private func readFully(_ target: UnsafeMutableRawPointer, count: Int, at offset: Int) throws {
        var done = 0
        while done < count {
            let got = pread(descriptor, target + done, count - done, off_t(offset + done))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                var status = stat()
                let size = fstat(descriptor, &status) == 0 ? "\(status.st_size)" : "an unknown number of"
                throw GradFeatError.damagedFile(
                    path: url.path,
                    problem: got < 0
                        ? "a read at byte \(offset + done) failed (\(String(cString: strerror(errno))))"
                        : "it was truncated while it was read: bytes \(offset)..<\(offset + count) were wanted, the file "
                            + "now holds \(size) bytes (it held \(identity.size) when opened)",
                    fix: "keep the file unchanged while a run reads it, and delete it to have it rebuilt")
            }
            done += got
        }
    }

    /// Throws when the open file changed size or modification time, or its path now names another file.
    private func requireUnchanged() throws {
        var open = stat(), named = stat()
        guard fstat(descriptor, &open) == 0 else { return }
        let now = Identity(open)
        if now != identity {
            throw GradFeatError.damagedFile(
                path: url.path,
                problem: "it changed while it was read: \(identity.size) bytes modified \(identity.modified) when "
                    + "opened, \(now.size) bytes modified \(now.modified) now",
                fix: "another process wrote it; keep the file unchanged while a run reads it (delete it to have it "
                    + "rebuilt)")
        }
        if stat(url.path, &named) != 0 || Identity(named) != identity {
            throw GradFeatError.damagedFile(
                path: url.path, problem: "it was deleted or replaced by another file while it was read",
                fix: "keep the file in place while a run reads it; run again to read the new one")
        }
    }
}
