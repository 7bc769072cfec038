import Foundation

/// xz decompression by running the `xz` command-line tool (xz-utils).
///
/// liblzma is not a dependency of GradFeat, so `.xz` files are decompressed by spawning
/// `xz -dc <file>` and reading its standard output. If `xz` is not installed, the error says so;
/// decompress the file yourself (`xz -dc file.xz > file`) and load the result instead.
public enum XZ {
    /// Places searched for the `xz` executable, then every directory in `PATH`.
    public static let searchPaths = ["/usr/bin/xz", "/bin/xz", "/usr/local/bin/xz", "/opt/homebrew/bin/xz"]

    /// Whether `bytes` start with the xz magic number `fd 37 7a 58 5a 00`.
    public static func isXZ(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.prefix(6).elementsEqual([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])
    }

    /// The `xz` executable, if one is found.
    public static var executable: String? {
        let fm = FileManager.default
        var candidates = searchPaths
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            candidates += path.split(separator: ":").map { "\($0)/xz" }
        }
        return candidates.first { fm.isExecutableFile(atPath: $0) }
    }

    /// Decompresses the `.xz` file at `path` with `xz -dc`.
    public static func decompress(contentsOfFile path: String) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .fileNotFound(path: path, remedy: "Check the path (and GRADFEAT_DATA_DIR).")
        }
        guard let tool = executable else {
            throw .toolFailed(tool: "xz", path: path, reason: "no xz executable found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-dc", "--", path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .toolFailed(tool: tool, path: path, reason: "\(error)")
        }
        // Drain stderr on another thread so a chatty xz cannot block on a full pipe.
        let errorText = ErrorCollector()
        let errorThread = Thread {
            errorText.set(errors.fileHandleForReading.readDataToEndOfFile())
        }
        errorThread.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let message = errorText.wait()
        if process.terminationStatus != 0 {
            let text = String(decoding: message, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw .toolFailed(
                tool: tool, path: path,
                reason: "exit status \(process.terminationStatus): \(text)")
        }
        return [UInt8](data)
    }
}

/// Collects stderr bytes from a helper thread.
private final class ErrorCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?

    func set(_ value: Data) {
        condition.lock()
        data = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}
