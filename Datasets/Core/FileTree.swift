import Foundation

/// A read-only tree of files: a folder on disk, or a `.tar` / `.tar.gz` / `.tgz` archive read in
/// place (streamed, never extracted to disk).
///
/// Loaders take a `FileTree`, so every data set can be read from its extracted folder or straight
/// from the downloaded archive.
public struct FileTree: Sendable {
    /// Whether the tree is a folder or an archive.
    public enum Kind: Sendable, Equatable {
        case directory
        case archive
    }

    /// Path of the folder or archive.
    public let path: String
    /// Folder or archive.
    public let kind: Kind

    /// Opens `path`, a folder or a tar archive (gzip-compressed or not).
    public init(path: String) throws(DatasetError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(
                path: path,
                remedy: "Give the extracted folder or the downloaded .tar.gz (see docs/DATASETS.md).")
        }
        self.path = path
        kind = isDirectory.boolValue ? .directory : .archive
    }

    /// Opens the folder or archive at `url`.
    public init(url: URL) throws(DatasetError) {
        try self.init(path: url.path)
    }

    /// Relative paths of every regular file (for an archive this reads it once).
    public func listFiles() throws(DatasetError) -> [String] {
        switch kind {
        case .directory:
            return try directoryFiles()
        case .archive:
            var reader = try TarReader(path: path)
            var out: [String] = []
            while let entry = try reader.next() { out.append(entry.path) }
            return out
        }
    }

    /// Reads every regular file whose relative path satisfies `include`.
    ///
    /// For an archive this is a single streaming pass; other entries are skipped without being kept.
    public func load(where include: (String) -> Bool) throws(DatasetError) -> FileBundle {
        try load { relative, _ in include(relative) }
    }

    /// Reads every regular file for which `include(path, filesReadSoFar)` is true.
    ///
    /// Files are visited in archive order (folders: sorted path order), so a predicate can decide
    /// from files read earlier, such as an image list that precedes the images.
    public func load(where include: (_ path: String, _ loaded: FileBundle) -> Bool)
        throws(DatasetError) -> FileBundle
    {
        var bundle = FileBundle(origin: path)
        switch kind {
        case .archive:
            var reader = try TarReader(path: path)
            while let entry = try reader.next() {
                guard include(entry.path, bundle) else { continue }
                try bundle.append(path: entry.path, size: entry.size) {
                    (buffer) throws(DatasetError) in try reader.readContents(into: buffer)
                }
            }
        case .directory:
            for relative in try directoryFiles() where include(relative, bundle) {
                let file = try FileInput(path: path + "/" + relative)
                let size = file.size ?? 0
                try bundle.append(path: relative, size: size) { (buffer) throws(DatasetError) in
                    let n = try file.readFully(into: buffer)
                    if n != size {
                        throw .ioFailed(path: file.name, reason: "file changed size while reading")
                    }
                }
            }
        }
        return bundle
    }

    /// Where a relative path is, for messages: `folder/relative` or `archive [entry relative]`.
    public func describe(_ relative: String) -> (path: String, entry: String?) {
        kind == .directory ? (path + "/" + relative, nil) : (path, relative)
    }

    private func directoryFiles() throws(DatasetError) -> [String] {
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(atPath: path) else {
            throw .ioFailed(path: path, reason: "cannot list the folder")
        }
        var out: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeDirectory { continue }
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: path + "/" + relative, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                out.append(relative)
            }
        }
        out.sort()
        return out
    }
}
