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
        // Read stdout and stderr together (poll), so a chatty xz cannot block on a full pipe, without a helper
        // thread (Foundation's Thread keeps what its closure holds); stdout in pieces, never past the
        // decompression limit: a small .xz can expand a million-fold. Keep stderr's first 64 KiB.
        let compressedSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let maxOutput = ReadLimits.current.maxOutput(forInput: compressedSize)
        var data = [UInt8](), message = [UInt8]()
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        var descriptors = [
            pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: errors.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        while descriptors.contains(where: { $0.fd >= 0 }) {
            let ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, 2, -1) }
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { break }
            for i in descriptors.indices where descriptors[i].fd >= 0 && descriptors[i].revents != 0 {
                let n = piece.withUnsafeMutableBytes { raw in readRetrying(descriptors[i].fd, raw) }
                if n <= 0 {
                    descriptors[i].fd = -1
                } else if i == 0 {
                    data.append(contentsOf: piece[0..<n])
                } else if message.count < 1 << 16 {
                    message.append(contentsOf: piece[0..<n])
                }
            }
            if data.count > maxOutput {
                process.terminate()
                process.waitUntilExit()
                throw .exceedsLimit(
                    path: path, entry: nil,
                    reason: "it expands to more than \(maxOutput) bytes from \(compressedSize) compressed bytes, "
                        + "beyond the limit for compressed data (a decompression bomb, or a damaged file; "
                        + "GRADFEAT_MAX_EXPANSION raises the limit for a genuine file)")
            }
        }
        process.waitUntilExit()
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
