/// Reads a whole file, decompressing it when it is gzip or xz (detected from the magic number,
/// not the name), so loaders accept `x`, `x.gz` and `x.xz` alike.
public enum CompressedFile {
    /// The decompressed contents of the file at `path`.
    public static func read(path: String) throws(DatasetError) -> [UInt8] {
        let file = try FileInput(path: path)
        var magic = [UInt8](repeating: 0, count: 6)
        let n = try magic.withUnsafeMutableBytes { raw in
            catching { () throws(DatasetError) -> Int in try file.readFully(into: raw) }
        }.get()
        magic.removeLast(6 - n)
        if XZ.isXZ(magic) { return try XZ.decompress(contentsOfFile: path) }
        if Gzip.isGzip(magic) { return try Gzip.decompress(contentsOfFile: path) }
        let rest = try file.readAll(sizeHint: max((file.size ?? 0) - n + 1, 4096))
        return magic + rest
    }

    /// Decompresses bytes already in memory when they are gzip or xz.
    public static func decompress(_ bytes: [UInt8], name: String) throws(DatasetError) -> [UInt8] {
        if Gzip.isGzip(bytes) { return try Gzip.decompress(bytes, name: name) }
        if XZ.isXZ(bytes) { return try XZ.decompress(bytes, name: name) }
        return bytes
    }
}
