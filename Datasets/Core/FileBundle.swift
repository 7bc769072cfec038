/// A set of files read into memory: their paths (relative to a folder or inside an archive) and
/// their contents, stored back to back in one buffer.
public struct FileBundle: Sendable {
    /// The folder or archive the files came from (shown in error messages).
    public let origin: String
    /// Relative paths, in reading order.
    public private(set) var paths: [String] = []
    private var storage: [UInt8] = []
    private var offsets: [Int] = [0]
    private var lookup: [String: Int] = [:]

    /// An empty bundle whose files come from `origin`.
    public init(origin: String) {
        self.origin = origin
    }

    /// Number of files.
    public var count: Int { paths.count }

    /// Index of the file at `path`, if present.
    public func index(of path: String) -> Int? { lookup[path] }

    /// Whether a file with this relative path is present.
    public func contains(_ path: String) -> Bool { lookup[path] != nil }

    /// Contents of file `index`.
    public func contents(at index: Int) -> ArraySlice<UInt8> {
        storage[offsets[index]..<offsets[index + 1]]
    }

    /// Contents of the file at `path` decoded as UTF-8, if present.
    public func text(at path: String) -> String? {
        guard let i = lookup[path] else { return nil }
        return String(decoding: contents(at: i), as: UTF8.self)
    }

    /// Calls `body` with the raw bytes of file `index`.
    public func withContents<R>(at index: Int, _ body: (UnsafeRawBufferPointer) throws -> R)
        rethrows -> R
    {
        try storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[offsets[index]..<offsets[index + 1]]))
        }
    }

    /// Appends a file.
    public mutating func append(path: String, contents: some Collection<UInt8>) {
        lookup[path] = paths.count
        paths.append(path)
        storage.append(contentsOf: contents)
        offsets.append(storage.count)
    }

    /// Appends a file of `size` bytes whose contents `fill` writes in place.
    mutating func append(
        path: String, size: Int, fill: (UnsafeMutableRawBufferPointer) throws(DatasetError) -> Void
    ) throws(DatasetError) {
        let start = storage.count
        if storage.capacity < start + size {
            storage.reserveCapacity(max(start + size, storage.capacity * 2))
        }
        storage.append(contentsOf: repeatElement(0, count: size))
        try storage.withUnsafeMutableBytes { raw in
            catching { () throws(DatasetError) in
                try fill(UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + size]))
            }
        }.get()
        lookup[path] = paths.count
        paths.append(path)
        offsets.append(storage.count)
    }
}
