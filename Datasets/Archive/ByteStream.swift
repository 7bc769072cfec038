#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A sequential source of bytes (a file, a decompressor).
protocol ByteStream: AnyObject {
    /// The path shown in error messages.
    var name: String { get }
    /// Reads up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int
    /// The most bytes the stream can still deliver (`nil`: unknown), so that a size field can be checked before
    /// anything is allocated for it.
    var remainingBound: Int? { get }
}

extension ByteStream {
    /// Fills `buffer` completely; returns how many bytes were read (less only at end of stream).
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads the whole remaining stream.
    func readAll(sizeHint: Int = 1 << 20) throws(DatasetError) -> [UInt8] {
        var out = [UInt8]()
        // The hint is a guess (a multiple of a compressed size); never reserve more than the stream can deliver.
        var capacity = max(min(sizeHint, remainingBound.map { $0 + 1 } ?? sizeHint, 1 << 30), 4096)
        var length = 0
        while true {
            if length == out.count {
                out.append(contentsOf: repeatElement(0, count: capacity - out.count))
            }
            let n = try out.withUnsafeMutableBytes { raw in
                catching { () throws(DatasetError) -> Int in
                    try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[length...]))
                }
            }.get()
            if n == 0 { break }
            length += n
            if length == out.count { capacity = out.count * 2 }
        }
        out.removeLast(out.count - length)
        return out
    }
}

/// An open file read with POSIX `read(2)`; closed in `deinit`.
final class FileInput: ByteStream {
    let name: String
    private let descriptor: Int32
    private var position = 0

    /// Opens `path` for reading.
    init(path: String) throws(DatasetError) {
        name = path
        descriptor = open(path, O_RDONLY)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT {
                throw .fileNotFound(path: path, remedy: "Check the path (and GRADFEAT_DATA_DIR).")
            }
            throw .ioFailed(path: path, reason: String(cString: strerror(code)))
        }
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            #if canImport(Darwin)
                let n = Darwin.read(descriptor, base, buffer.count)
            #elseif canImport(Musl)
                let n = Musl.read(descriptor, base, buffer.count)
            #else
                let n = Glibc.read(descriptor, base, buffer.count)
            #endif
            if n >= 0 {
                position += n
                return n
            }
            if errno == EINTR { continue }
            throw .ioFailed(path: name, reason: String(cString: strerror(errno)))
        }
    }

    /// The file's size in bytes, when known (a regular file).
    var size: Int? {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    var remainingBound: Int? { size.map { max(0, $0 - position) } }
}

/// Bytes already in memory, read as a stream.
final class MemoryInput: ByteStream {
    let name: String
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8], name: String) {
        self.bytes = bytes
        self.name = name
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        let n = min(buffer.count, bytes.count - position)
        if n > 0 {
            bytes.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
            }
            position += n
        }
        return n
    }

    var remainingBound: Int? { bytes.count - position }
}
