import Datasets
import Foundation

/// A small tree of files built from fuzz choices, written as a folder or as a (gzip-compressed) tar archive,
/// the two kinds of `FileTree` the loaders read.
public struct FuzzTree {
    public var files: [(path: String, contents: [UInt8])] = []
    /// Symbolic links (path → absolute target inside the tree); folders only, archives skip them.
    public var links: [(path: String, target: String)] = []

    public init() {}

    public mutating func add(_ path: String, _ contents: [UInt8]) { files.append((path, contents)) }

    /// Writes the tree under `name` in the scratch folder, as a folder or an archive as `input` chooses, and
    /// returns the path to give a loader.
    public func write(_ name: String, _ input: inout FuzzInput) -> String {
        switch input.int(in: 0...3) {
        case 0: return Scratch.write(tarArchive(), to: name + ".tar")
        case 1: return Scratch.write(Gzip.compress(tarArchive(), level: 1), to: name + ".tar.gz")
        default:
            let root = Scratch.path(name)
            try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            for file in files { Scratch.write(file.contents, to: name + "/" + file.path) }
            for link in links {
                let path = root + "/" + link.path
                try? FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try? FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: root + "/" + link.target)
            }
            return root
        }
    }

    /// The files as a POSIX ustar archive (long paths are cut to 100 bytes).
    public func tarArchive() -> [UInt8] {
        var out: [UInt8] = []
        for file in files {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int, width: Int) {
                for (i, byte) in text.utf8.prefix(width).enumerated() { header[offset + i] = byte }
            }
            func octal(_ value: Int, width: Int) -> String {
                let digits = String(value, radix: 8)
                return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            }
            put(file.path, at: 0, width: 100)
            put(octal(0o644, width: 8), at: 100, width: 7)
            put(octal(0, width: 8), at: 108, width: 7)
            put(octal(0, width: 8), at: 116, width: 7)
            put(octal(file.contents.count, width: 12), at: 124, width: 11)
            put(octal(0, width: 12), at: 136, width: 11)
            header[156] = UInt8(ascii: "0")
            put("ustar\u{0}00", at: 257, width: 8)
            put(String(repeating: " ", count: 8), at: 148, width: 8)
            let sum = header.reduce(0) { $0 + Int($1) }
            put(octal(sum, width: 7) + "\u{0} ", at: 148, width: 8)
            out += header + file.contents
            out += [UInt8](repeating: 0, count: (512 - file.contents.count % 512) % 512)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }
}

extension FuzzInput {
    /// A file or folder name: usually one of `common` (the first for a zero byte), else text from the input made safe to use as one
    /// component (no `/`, NUL, `.` or `..`).
    public mutating func name(_ common: [String]) -> String {
        if !common.isEmpty, !rarely(4) { return pick(common) }
        let text = String(text(maxCount: 16).filter { $0 != "/" && $0 != "\u{0}" })
        return text.isEmpty || text == "." || text == ".." ? "x" : text
    }

    /// The contents of an image file: a valid JPEG or PNG of a few pixels (grey or RGB), one damaged by a
    /// flipped byte or cut short, or bytes straight from the input. Zero bytes give a valid 1x1 grey JPEG.
    public mutating func imageFile() -> [UInt8] {
        let kind = int(in: 0...5)
        if kind == 5 { return data(maxCount: 2048) }
        let width = int(in: 1...9)
        let height = int(in: 1...9)
        let channels = bool() ? 3 : 1
        let pixels = (0..<width * height * channels).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var bytes =
            (try?
                (kind % 2 == 0
                ? ImageCodec.encodeJPEG(pixels, width: width, height: height, channels: channels, quality: 50)
                : ImageCodec.encodePNG(pixels, width: width, height: height, channels: channels))) ?? []
        if kind >= 2, !bytes.isEmpty {
            if bool() {
                bytes[int(in: 0...bytes.count - 1)] ^= byte() | 1
            } else {
                bytes.removeLast(int(in: 1...bytes.count))
            }
        }
        return bytes
    }
}
