/// A streaming reader of tar archives (POSIX ustar, GNU and pax), optionally gzip-compressed.
///
/// Only regular files are returned; directories, links and devices are skipped. Long names from
/// GNU `L` entries and pax `path=` records are honoured. Entries are read in archive order, so an
/// archive is read in one pass without extracting anything to disk.
public struct TarReader {
    /// One entry header.
    public struct Entry: Sendable, Equatable {
        /// Path inside the archive (without a leading `./`).
        public var path: String
        /// Size of the contents in bytes.
        public var size: Int
    }

    private let input: any ByteStream
    private let archivePath: String
    private var pendingBytes = 0 // contents + padding of the current entry not yet consumed
    private var pendingSize = 0
    private var currentPath: String?
    private var header = [UInt8](repeating: 0, count: 512)
    private var scratch = [UInt8](repeating: 0, count: 1 << 16)

    /// Opens the tar or tar.gz file at `path` (gzip is detected from the magic number).
    public init(path: String) throws(DatasetError) {
        let file = try FileInput(path: path)
        var magic = [UInt8](repeating: 0, count: 2)
        let n = try magic.withUnsafeMutableBytes { raw in
            catching { () throws(DatasetError) -> Int in try file.readFully(into: raw) }
        }.get()
        let reopened = try FileInput(path: path)
        if n == 2 && Gzip.isGzip(magic) {
            input = try GzipInput(reopened)
        } else {
            input = reopened
        }
        archivePath = path
    }

    /// Reads a tar stream held in memory (already decompressed, or gzip-compressed).
    public init(bytes: [UInt8], name: String) throws(DatasetError) {
        if Gzip.isGzip(bytes) {
            input = try GzipInput(MemoryInput(bytes, name: name))
        } else {
            input = MemoryInput(bytes, name: name)
        }
        archivePath = name
    }

    /// Advances to the next regular file and returns its header, or `nil` at the end of the archive.
    /// Contents of the previous entry that were not read are skipped.
    public mutating func next() throws(DatasetError) -> Entry? {
        try skipPending()
        var longName: String?
        while true {
            let n = try header.withUnsafeMutableBytes { raw in
                catching { () throws(DatasetError) -> Int in try input.readFully(into: raw) }
            }.get()
            if n == 0 { return nil } // no end-of-archive blocks: accept, as GNU tar does
            if n < 512 { throw corrupt(nil, "archive ends inside a header block") }
            if header.allSatisfy({ $0 == 0 }) { return nil } // end-of-archive marker
            try verifyChecksum()
            let size = try parseSize()
            let type = header[156]
            var name = longName ?? headerName()
            longName = nil
            switch type {
            case UInt8(ascii: "L"): // GNU long name: the contents are the next entry's path
                longName = try readSmall(size, entry: name).trimmingTrailingNULs()
                continue
            case UInt8(ascii: "x"): // pax extended header for the next entry
                let records = try readSmall(size, entry: name)
                longName = Self.paxPath(records)
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "K"): // global pax header / GNU long link name
                _ = try readSmall(size, entry: name)
                continue
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if name.hasPrefix("./") { name.removeFirst(2) }
                pendingSize = size
                pendingBytes = (size + 511) / 512 * 512
                currentPath = name
                return Entry(path: name, size: size)
            default: // directory, link, device, fifo…: skip any contents
                pendingSize = 0
                pendingBytes = (size + 511) / 512 * 512
                currentPath = name
                try skipPending()
            }
        }
    }

    /// Reads the contents of the entry returned by the last ``next()`` into `buffer`, which must
    /// have exactly `entry.size` bytes.
    public mutating func readContents(into buffer: UnsafeMutableRawBufferPointer) throws(DatasetError) {
        precondition(buffer.count == pendingSize, "buffer must hold exactly the entry's size")
        let n = try input.readFully(into: buffer)
        if n < buffer.count { throw corrupt(currentPath, "archive ends inside the entry's contents") }
        pendingBytes -= n
        pendingSize = 0
        try skipPending()
    }

    /// Reads the contents of the current entry into a new array.
    public mutating func readContents() throws(DatasetError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: pendingSize)
        try out.withUnsafeMutableBytes { raw in
            catching { () throws(DatasetError) in try readContents(into: raw) }
        }.get()
        return out
    }

    private mutating func skipPending() throws(DatasetError) {
        while pendingBytes > 0 {
            let chunk = min(pendingBytes, scratch.count)
            let n = try scratch.withUnsafeMutableBytes { raw in
                catching { () throws(DatasetError) -> Int in
                    try input.readFully(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<chunk]))
                }
            }.get()
            if n < chunk { throw corrupt(currentPath, "archive ends inside the entry's contents") }
            pendingBytes -= n
        }
        pendingSize = 0
    }

    private mutating func readSmall(_ size: Int, entry: String) throws(DatasetError) -> String {
        guard size <= 1 << 20 else { throw corrupt(entry, "extended header of \(size) bytes") }
        pendingSize = size
        pendingBytes = (size + 511) / 512 * 512
        currentPath = entry
        let bytes = try readContents()
        return String(decoding: bytes, as: UTF8.self)
    }

    private func corrupt(_ entry: String?, _ reason: String) -> DatasetError {
        .corruptArchive(path: archivePath, entry: entry, reason: reason)
    }

    private func field(_ offset: Int, _ length: Int) -> String {
        let slice = header[offset..<offset + length]
        let end = slice.firstIndex(of: 0) ?? slice.endIndex
        return String(decoding: header[offset..<end], as: UTF8.self)
    }

    private func headerName() -> String {
        let name = field(0, 100)
        // POSIX ustar ("ustar\0") splits long paths into prefix + name; GNU ("ustar  ") does not.
        let isPOSIX = header[257..<263].elementsEqual("ustar\u{0}".utf8)
        if isPOSIX {
            let prefix = field(345, 155)
            if !prefix.isEmpty { return prefix + "/" + name }
        }
        return name
    }

    private func verifyChecksum() throws(DatasetError) {
        var sum = 0
        for i in 0..<512 { sum += (148..<156).contains(i) ? 32 : Int(header[i]) }
        let stored = Int(field(148, 8).trimmingCharacters(in: " "), radix: 8)
        if stored != sum {
            throw corrupt(
                headerName(), "header checksum mismatch (not a tar archive, or damaged)")
        }
    }

    /// The entry's size, checked against overflow and against the bytes the archive can still deliver, so that a
    /// header cannot make the reader allocate or skip more than the archive holds.
    private func parseSize() throws(DatasetError) -> Int {
        let size: Int
        if header[124] & 0x80 != 0 { // GNU base-256 for sizes >= 8 GiB; bit 6 set means negative
            guard header[124] & 0x40 == 0 else { throw corrupt(headerName(), "negative size field") }
            var value = 0
            for i in 125..<136 {
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 256)
                guard !overflow else { throw corrupt(headerName(), "size field overflows") }
                value = shifted | Int(header[i])
            }
            size = value
        } else {
            let text = field(124, 12).trimmingCharacters(in: " ")
            guard let parsed = text.isEmpty ? 0 : Int(text, radix: 8), parsed >= 0 else {
                throw corrupt(headerName(), "bad size field '\(text)'")
            }
            size = parsed
        }
        if let remaining = input.remainingBound, size > remaining {
            throw corrupt(
                headerName(), "the header gives a size of \(size) bytes but at most \(remaining) bytes follow")
        }
        return size
    }

    /// The `path` value from pax records (`"<len> key=value\n"`).
    private static func paxPath(_ records: String) -> String? {
        for line in records.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
        }
        return nil
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set || s.first == "\u{0}" { s.removeFirst() }
        while s.last == set || s.last == "\u{0}" { s.removeLast() }
        return String(s)
    }

    fileprivate func trimmingTrailingNULs() -> String {
        var s = Substring(self)
        while s.last == "\u{0}" { s.removeLast() }
        return String(s)
    }
}
