// The temporary names atomic writes use, and the clean-up of those a killed process left behind.

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names of the temporary files behind atomic writes: `<name>.tmp-<pid>` beside the target (`.<name>.tmp-<pid>`
/// for text files, hidden), renamed onto the target once complete.
///
/// A process killed while writing leaves its temporary file; ``removeStale(for:)`` deletes those of processes that
/// no longer exist (539 MB after nine killed cache writes, otherwise), and never one a live process is writing.
public enum TemporaryFile {
    /// The temporary name this process writes `target` under.
    public static func url(for target: URL, hidden: Bool = false) -> URL {
        target.deletingLastPathComponent()
            .appendingPathComponent("\(hidden ? "." : "")\(target.lastPathComponent).tmp-\(getpid())")
    }

    /// Removes the temporary files of `target` left by processes that have ended; returns their names.
    @discardableResult
    public static func removeStale(for target: URL) -> [String] {
        let folder = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed: [String] = []
        for entry in entries {
            let stem = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            guard stem.hasPrefix(name + ".tmp-"), let pid = Int32(stem.dropFirst(name.count + 5)), pid > 0,
                pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry))) != nil {
                removed.append(entry)
            }
        }
        return removed
    }
}
