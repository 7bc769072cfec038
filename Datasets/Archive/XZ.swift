import CLZMA
import Foundation

/// xz decompression in process, through liblzma (xz-utils' library): no child process, the output bounded by the
/// decompression limit (`ReadLimits`), concatenated streams read as one, as `xz -dc` reads them.
public enum XZ {
    /// Whether `bytes` start with the xz magic number `fd 37 7a 58 5a 00`.
    public static func isXZ(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.prefix(6).elementsEqual([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])
    }

    /// Decompresses the `.xz` file at `path`.
    public static func decompress(contentsOfFile path: String) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw .fileNotFound(path: path, remedy: "Check the path (and GRADFEAT_DATA_DIR).")
        }
        let file = try FileInput(path: path)
        let compressed = try file.readAll(sizeHint: max(file.size ?? 0, 4096))
        return try decompress(compressed, name: path)
    }

    /// Decompresses xz data held in memory (`name` is shown in errors): a small input can expand a million-fold,
    /// so the output stops at the limit for compressed data with an error saying so.
    public static func decompress(
        _ compressed: [UInt8], name: String, entry: String? = nil, limits: ReadLimits = .current
    ) throws(DatasetError) -> [UInt8] {
        let maxOutput = limits.maxOutput(forInput: compressed.count)
        var stream = gf_lzma_stream_init()
        // liblzma allocates the dictionary a header declares (up to 4 GiB from a few bytes): bound it by the output
        // allowed, which a genuine file's dictionary never needs to exceed (xz's presets use at most 64 MiB).
        let memoryLimit = UInt64(min(maxOutput, 1 << 30)) + (16 << 20)
        guard lzma_stream_decoder(&stream, memoryLimit, gf_lzma_concatenated) == LZMA_OK else {
            throw .malformed(path: name, entry: entry, reason: "liblzma could not start a decoder (out of memory)")
        }
        defer { lzma_end(&stream) }
        var output = [UInt8]()
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        var tooLarge = false
        let status: lzma_ret = compressed.withUnsafeBufferPointer { input in
            stream.next_in = input.baseAddress
            stream.avail_in = input.count
            while true {
                let result = piece.withUnsafeMutableBufferPointer { buffer -> lzma_ret in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = buffer.count
                    return lzma_code(&stream, LZMA_FINISH)
                }
                output.append(contentsOf: piece[0..<(piece.count - stream.avail_out)])
                if output.count > maxOutput {
                    tooLarge = true
                    return result
                }
                if result != LZMA_OK { return result }
            }
        }
        if tooLarge {
            throw .exceedsLimit(
                path: name, entry: entry,
                reason: "it expands to more than \(maxOutput) bytes from \(compressed.count) compressed bytes, beyond "
                    + "the limit for compressed data (a decompression bomb, or a damaged file; GRADFEAT_MAX_EXPANSION "
                    + "raises the limit for a genuine file)")
        }
        switch status {
        case LZMA_STREAM_END:
            return output
        case LZMA_MEMLIMIT_ERROR, LZMA_MEM_ERROR:
            throw .exceedsLimit(
                path: name, entry: entry,
                reason: "its xz header asks for more than \(memoryLimit >> 20) MiB to decode \(compressed.count) bytes "
                    + "(a hostile or damaged file; xz's own presets need at most 64 MiB)")
        case LZMA_FORMAT_ERROR:
            throw .malformed(path: name, entry: entry, reason: "it is not xz data (no xz header)")
        case LZMA_DATA_ERROR, LZMA_BUF_ERROR:
            throw .malformed(path: name, entry: entry, reason: "its xz data are corrupt or truncated")
        case LZMA_OPTIONS_ERROR:
            throw .malformed(path: name, entry: entry, reason: "it uses xz options this liblzma does not support")
        default:
            throw .malformed(path: name, entry: entry, reason: "liblzma failed with code \(status.rawValue)")
        }
    }
}
