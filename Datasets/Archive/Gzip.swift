import CZlib

/// gzip (RFC 1952) decompression and compression with zlib.
///
/// Concatenated gzip members are read one after the other, as `gzip -dc` does. zlib streams
/// (RFC 1950) are accepted too.
public enum Gzip {
    /// Whether `bytes` start with the gzip magic number `1f 8b`.
    public static func isGzip(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        return iterator.next() == 0x1f && iterator.next() == 0x8b
    }

    /// Decompresses a gzip (or zlib) stream held in memory.
    /// - Parameters:
    ///   - bytes: the compressed stream.
    ///   - name: the file name used in error messages.
    ///   - limits: the most the output may expand (``ReadLimits``).
    public static func decompress(_ bytes: [UInt8], name: String = "<memory>", limits: ReadLimits = .current)
        throws(DatasetError) -> [UInt8]
    {
        let stream = try GzipInput(MemoryInput(bytes, name: name), limits: limits)
        return try stream.readAll(sizeHint: min(bytes.count, 1 << 28) * 4)
    }

    /// Reads and decompresses the gzip file at `path`.
    public static func decompress(contentsOfFile path: String) throws(DatasetError) -> [UInt8] {
        let file = try FileInput(path: path)
        let hint = min(file.size ?? (1 << 20), 1 << 28) * 4
        return try GzipInput(file).readAll(sizeHint: hint)
    }

    /// The header and trailer wrapped around deflate data.
    public enum Container: Sendable, Equatable {
        /// gzip (RFC 1952), as in `.gz` files.
        case gzip
        /// zlib (RFC 1950), as in MATLAB `miCOMPRESSED` elements and PNG.
        case zlib
    }

    /// Compresses `bytes` into one gzip member (or one zlib stream).
    /// - Parameters:
    ///   - bytes: the data to compress.
    ///   - level: zlib level 0 (store) … 9 (smallest).
    ///   - container: gzip or zlib framing.
    public static func compress(_ bytes: [UInt8], level: Int = 6, container: Container = .gzip)
        -> [UInt8]
    {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        precondition(gf_deflate_init(stream, Int32(level), container == .gzip ? 1 : 0) == Z_OK, "deflateInit2 failed")
        let bound = Int(deflateBound(stream, uLong(bytes.count))) + 64
        var out = [UInt8](repeating: 0, count: bound)
        var produced = 0
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.pointee.avail_in = uInt(src.count)
                stream.pointee.next_out = dst.baseAddress
                stream.pointee.avail_out = uInt(dst.count)
                let status = deflate(stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate failed with \(status)")
                produced = dst.count - Int(stream.pointee.avail_out)
            }
        }
        out.removeLast(out.count - produced)
        return out
    }
}

/// Streaming gzip decompressor over another ``ByteStream``.
final class GzipInput: ByteStream {
    let name: String
    private let source: any ByteStream
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var sourceEnded = false
    private var finished = false
    private var inMember = true
    /// Bytes produced so far, and the most allowed (``ReadLimits``: a decompression bomb stops here).
    private var produced = 0
    private let maxOutput: Int
    private let compressedSize: Int?

    init(_ source: any ByteStream, limits: ReadLimits = .current) throws(DatasetError) {
        self.source = source
        name = source.name
        compressedSize = source.remainingBound
        maxOutput = compressedSize.map { limits.maxOutput(forInput: $0) } ?? Int.max
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 1 << 18, alignment: 16)
        let status = gf_inflate_init_auto(stream)
        if status != Z_OK { // deinit releases the buffers (inflateEnd is safe on a failed init)
            throw .corruptArchive(path: name, entry: nil, reason: "inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    private func refill() throws(DatasetError) {
        guard stream.pointee.avail_in == 0, !sourceEnded else { return }
        let n = try source.read(into: input)
        if n == 0 { sourceEnded = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
    }

    var remainingBound: Int? { finished ? 0 : maxOutput == Int.max ? nil : maxOutput - produced }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        let n = try inflateInto(buffer)
        produced += n
        if produced > maxOutput {
            throw .exceedsLimit(
                path: name, entry: nil,
                reason: "it expands to more than \(maxOutput) bytes from \(compressedSize ?? 0) compressed bytes, "
                    + "beyond the limit for compressed data (a decompression bomb, or a damaged file; "
                    + "GRADFEAT_MAX_EXPANSION raises the limit for a genuine file)")
        }
        return n
    }

    private func inflateInto(_ buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) -> Int {
        guard !finished, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        let wanted = Int(stream.pointee.avail_out)
        while stream.pointee.avail_out > 0 {
            try refill()
            if stream.pointee.avail_in == 0 && sourceEnded {
                if inMember {
                    throw .corruptArchive(
                        path: name, entry: nil,
                        reason: "unexpected end of compressed data (the file is truncated)")
                }
                finished = true
                break
            }
            let status = inflate(stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                inMember = false
                // Another member may follow (as `gzip -dc` accepts); otherwise stop.
                try refill()
                if stream.pointee.avail_in == 0 && sourceEnded {
                    finished = true
                    break
                }
                if stream.pointee.next_in.pointee != 0x1f {
                    finished = true // trailing padding after the last member: ignored, like gzip
                    break
                }
                inflateReset(stream)
                inMember = true
                continue
            }
            if status == Z_BUF_ERROR && stream.pointee.avail_in == 0 { continue }
            if status != Z_OK {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw .corruptArchive(path: name, entry: nil, reason: message)
            }
        }
        return wanted - Int(stream.pointee.avail_out)
    }
}
