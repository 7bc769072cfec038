import Foundation

/// A per-process scratch folder in memory (`/dev/shm/gradfeat-fuzz-<pid>`), emptied before and after every input
/// and removed when the process exits normally (scripts/fuzz.sh removes the folders of crashed runs).
public enum Scratch {
    public static let root: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/gradfeat-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.root) }
        return path
    }()

    /// The absolute path of `relative` inside the scratch folder.
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The file URL of `relative` inside the scratch folder.
    public static func url(_ relative: String) -> URL { URL(fileURLWithPath: path(relative)) }

    /// Writes `bytes` to `relative` (creating its folders) and returns the absolute path.
    @discardableResult
    public static func write(_ bytes: some Collection<UInt8>, to relative: String) -> String {
        let target = path(relative)
        let folder = (target as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: target, contents: Data(bytes))
        return target
    }

    /// Removes everything in the scratch folder.
    public static func reset() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            try? fm.removeItem(atPath: root + "/" + name)
        }
    }
}

/// Runs one fuzz input: `body` reads its choices from `input`. A thrown Swift error is the expected outcome for
/// bad input and is ignored; anything else (a trap, a sanitizer report, a timeout, a huge allocation) is what
/// libFuzzer reports.
public func runFuzzInput(_ start: UnsafePointer<UInt8>, _ count: Int, _ body: (inout FuzzInput) throws -> Void) {
    Scratch.reset()
    defer { Scratch.reset() }
    var input = FuzzInput(start, count)
    do {
        try body(&input)
        if verbose { print("no error") }
    } catch {
        if verbose { print("thrown: \(error)") }
    }
}

/// With GRADFEAT_FUZZ_VERBOSE=1 in the environment, inputs report the error they end with (to check a seed).
let verbose = ProcessInfo.processInfo.environment["GRADFEAT_FUZZ_VERBOSE"] == "1"

/// Runs `body`, ignoring a thrown error, so that one failing read does not skip the reads after it.
public func attempt<R>(_ body: () throws -> R) {
    _ = try? body()
}
