/// An error raised while reading a data set.
///
/// Every case names the file (and, inside an archive or a record file, the entry or record) and its
/// ``description`` says what to do about it.
public enum DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file or folder the loader needs does not exist.
    case fileNotFound(path: String, remedy: String)
    /// The operating system refused to read or write a file.
    case ioFailed(path: String, reason: String)
    /// A gzip stream or tar archive is damaged or cut short.
    case corruptArchive(path: String, entry: String?, reason: String)
    /// A file of fixed-size records ends inside a record.
    case truncatedRecord(path: String, record: Int, recordBytes: Int, availableBytes: Int)
    /// A file starts with the wrong magic number.
    case badMagic(path: String, expected: UInt32, found: UInt32)
    /// An image could not be decoded (not a JPEG/PNG, damaged, or unsupported colour space).
    case undecodableImage(path: String, entry: String?, reason: String)
    /// A list names an image that is not in the data set.
    case missingImage(list: String, id: String, expectedPath: String)
    /// A JSON (or XML) file lacks a field the loader needs.
    case missingField(path: String, field: String, context: String)
    /// The content does not have the expected structure.
    case malformed(path: String, entry: String?, reason: String)
    /// A helper program (such as `xz`) is missing or failed.
    case toolFailed(tool: String, path: String, reason: String)
    /// The format or variant is recognised but not supported.
    case unsupported(path: String, reason: String)
    /// A size in the file is beyond a ``ReadLimits`` bound (an image's pixels, a decompressed size); `reason` says
    /// which limit and how to raise it for a genuine file.
    case exceedsLimit(path: String, entry: String?, reason: String)
    /// A data-set cache (HDF5, see ``DatasetCache``) cannot be used or written: damaged, of another
    /// format or version, inconsistent, or the target is not writable. `remedy` says what to do.
    case invalidCache(path: String, reason: String, remedy: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path, let remedy):
            return "\(path): not found. \(remedy)"
        case .ioFailed(let path, let reason):
            return "\(path): cannot read (\(reason)). Check that the file exists and is readable."
        case .corruptArchive(let path, let entry, let reason):
            return "\(Self.place(path, entry)): damaged archive (\(reason)). "
                + "Download the archive again and compare its SHA-256 with the published checksum."
        case .truncatedRecord(let path, let record, let recordBytes, let availableBytes):
            return "\(path): record \(record) is truncated: it needs \(recordBytes) bytes but only "
                + "\(availableBytes) remain. The file is incomplete; download or decompress it again."
        case .badMagic(let path, let expected, let found):
            return "\(path): wrong magic number 0x\(Self.hex(found)) (expected 0x\(Self.hex(expected))). "
                + "This is not the expected IDX file (images and labels swapped, or not decompressed?)."
        case .undecodableImage(let path, let entry, let reason):
            return "\(Self.place(path, entry)): image cannot be decoded (\(reason)). "
                + "Replace or remove the file; only baseline/progressive JPEG and PNG are read."
        case .missingImage(let list, let id, let expectedPath):
            return "\(list): lists image id '\(id)' but \(expectedPath) does not exist. "
                + "Restore the image or remove the id from the list."
        case .missingField(let path, let field, let context):
            return "\(path): required field '\(field)' is missing in \(context). "
                + "The file is not in the expected format (or is truncated)."
        case .malformed(let path, let entry, let reason):
            return "\(Self.place(path, entry)): \(reason)."
        case .toolFailed(let tool, let path, let reason):
            return "\(path): running \(tool) failed (\(reason)). Install it (e.g. `apt-get install "
                + "xz-utils`) or decompress the file yourself (`xz -dc file.xz > file`) and load that."
        case .unsupported(let path, let reason):
            return "\(path): unsupported: \(reason)."
        case .exceedsLimit(let path, let entry, let reason):
            return "\(Self.place(path, entry)): refused: \(reason)."
        case .invalidCache(let path, let reason, let remedy):
            return "\(path): \(reason). \(remedy)"
        }
    }

    private static func place(_ path: String, _ entry: String?) -> String {
        guard let entry else { return path }
        return "\(path) [entry \(entry)]"
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
