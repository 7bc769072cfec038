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
        // Drain stderr on another thread so a chatty xz cannot block on a full pipe; keep its first 64 KiB (read
        // by hand: Foundation's readDataToEndOfFile leaks its buffer on a helper thread).
        let errorText = ErrorCollector()
        let errorDescriptor = errors.fileHandleForReading.fileDescriptor
        let errorThread = Thread {
            var kept = Data(), piece = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = piece.withUnsafeMutableBytes { raw in readRetrying(errorDescriptor, raw) }
                if n <= 0 { break }
                if kept.count < 1 << 16 { kept.append(contentsOf: piece[0..<n]) }
            }
            errorText.set(kept)
        }
        errorThread.start()
        // Read in pieces, never past the decompression limit: a small .xz can expand a million-fold.
        let compressedSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let maxOutput = ReadLimits.current.maxOutput(forInput: compressedSize)
        var data = [UInt8]()
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        let descriptor = output.fileHandleForReading.fileDescriptor
        while true {
            let n = piece.withUnsafeMutableBytes { raw in readRetrying(descriptor, raw) }
            if n <= 0 { break }
            data.append(contentsOf: piece[0..<n])
            if data.count > maxOutput {
                process.terminate()
                process.waitUntilExit()
                _ = errorText.wait()
                throw .exceedsLimit(
                    path: path, entry: nil,
                    reason: "it expands to more than \(maxOutput) bytes from \(compressedSize) compressed bytes, "
                        + "beyond the limit for compressed data (a decompression bomb, or a damaged file; "
                        + "GRADFEAT_MAX_EXPANSION raises the limit for a genuine file)")
            }
        }
        process.waitUntilExit()
        let message = errorText.wait()
        if process.terminationStatus != 0 {
            let text = String(decoding: message, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw .toolFailed(
                tool: tool, path: path,
                reason: "exit status \(process.terminationStatus): \(text)")
        }
        return data
    }
}

/// `read(2)` on `descriptor`, retried after signals; the byte count, 0 at the end, -1 on error.
private func readRetrying(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    while true {
        let n = read(descriptor, buffer.baseAddress, buffer.count)
        if n >= 0 || errno != EINTR { return n }
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
