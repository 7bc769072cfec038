import Datasets
import Foundation
import HDF5
import Testing

/// Files whose size fields lie, overflow or ask for more than a reader allows: each must end in a `DatasetError`
/// naming the file, never a crash or an allocation of what the header claims.
@Suite("Hostile inputs")
struct HostileInputTests {
    /// An IDX file: magic, big-endian dimensions, data.
    static func idx(magic: UInt32, dimensions: [UInt32], data: [UInt8]) -> [UInt8] {
        func word(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        return word(magic) + dimensions.flatMap(word) + data
    }

    @Test("IDX dimensions that overflow, or images of 0x0, are refused")
    func idxSizes() throws {
        #expect(throws: DatasetError.self) {
            try IDX.parse(
                Self.idx(magic: IDX.imagesMagic, dimensions: [.max, .max, .max], data: [1, 2, 3]),
                expectedMagic: IDX.imagesMagic, name: "dims.idx")
        }
        #expect(throws: DatasetError.self) {
            try IDX.parse(
                Self.idx(magic: IDX.imagesMagic, dimensions: [1 << 31, 28, 28], data: []),
                expectedMagic: IDX.imagesMagic, name: "count.idx")
        }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write(Self.idx(magic: IDX.imagesMagic, dimensions: [2, 0, 0], data: []), to: "images")
        try folder.write(Self.idx(magic: IDX.labelsMagic, dimensions: [2], data: [0, 1]), to: "labels")
        #expect(throws: DatasetError.self) {
            try IDX.load(images: folder.file("images"), labels: folder.file("labels"), split: "train")
        }
    }

    /// A tar header of a regular file whose size field holds `size` (base-256 when `binary`), checksummed.
    static func tarHeader(name: String, sizeField: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        for (i, byte) in name.utf8.enumerated() { header[i] = byte }
        for (i, byte) in "0000644\u{0}".utf8.enumerated() { header[100 + i] = byte }
        for (i, byte) in sizeField.enumerated() { header[124 + i] = byte }
        header[156] = UInt8(ascii: "0")
        for (i, byte) in "ustar\u{0}00".utf8.enumerated() { header[257 + i] = byte }
        let sum = (0..<512).reduce(0) { $0 + ((148..<156).contains($1) ? 32 : Int(header[$1])) }
        for (i, byte) in String(format: "%06o\u{0} ", sum).utf8.enumerated() { header[148 + i] = byte }
        return header
    }

    static func baseTwoFiftySix(_ value: UInt64, negative: Bool = false) -> [UInt8] {
        var field = [UInt8](repeating: 0, count: 12)
        field[0] = negative ? 0xff : 0x80
        for i in 0..<8 { field[4 + i] = UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64(i))) }
        return field
    }

    @Test(
        "Tar sizes beyond the archive, overflowing or negative are refused before any allocation",
        arguments: [
            baseTwoFiftySix(1 << 40), baseTwoFiftySix(1 << 34), baseTwoFiftySix(.max),
            baseTwoFiftySix(5, negative: true),
            Array("77777777777\u{0}".utf8),
        ])
    func tarSizes(sizeField: [UInt8]) throws {
        let archive =
            Self.tarHeader(name: "a/b/c.jpg", sizeField: sizeField) + [UInt8](repeating: 7, count: 512)
            + [UInt8](repeating: 0, count: 1024)
        for bytes in [archive, Gzip.compress(archive)] {
            var reader = try TarReader(bytes: bytes, name: "hostile.tar")
            #expect(throws: DatasetError.self) { _ = try reader.next() }
        }
    }

    @Test("A gzip stream expanding beyond the limit is refused while it is read (a decompression bomb)")
    func gzipBomb() throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 22)
        let packed = Gzip.compress(zeros, level: 9)
        let tight = ReadLimits(maxExpansion: 10, expansionAllowance: 1 << 16)
        #expect(throws: DatasetError.self) { try Gzip.decompress(packed, name: "bomb.gz", limits: tight) }
        #expect(try Gzip.decompress(packed, name: "fine.gz", limits: ReadLimits()) == zeros)
    }

    @Test("A JPEG or PNG whose header claims 65000x65000 pixels is refused from the header")
    func imagePixelLimit() throws {
        let pixels = [UInt8](repeating: 90, count: 3 * 8 * 8)
        var jpeg = try ImageCodec.encodeJPEG(pixels, width: 8, height: 8)
        // SOF0 (ff c0): length, precision, height, width.
        let sof = try #require((0..<jpeg.count - 1).first { jpeg[$0] == 0xff && jpeg[$0 + 1] == 0xc0 })
        for (offset, byte) in [UInt8(0xfd), 0xe8, 0xfd, 0xe8].enumerated() { jpeg[sof + 5 + offset] = byte }
        #expect(throws: DatasetError.self) { try ImageCodec.decode(jpeg, name: "huge.jpg") }

        var png = try ImageCodec.encodePNG(pixels, width: 8, height: 8)
        // IHDR data start at byte 16: width, height (big-endian); its CRC follows the 13 data bytes.
        for (offset, byte) in [UInt8(0), 0, 0xfd, 0xe8, 0, 0, 0xfd, 0xe8].enumerated() { png[16 + offset] = byte }
        let crc = Self.crc32(Array(png[12..<29]))
        for i in 0..<4 { png[29 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        do {
            _ = try ImageCodec.decode(png, name: "huge.png")
            Issue.record("a PNG claiming 65000x65000 pixels was decoded")
        } catch {
            #expect("\(error)".contains("65000x65000"))
        }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test("A MAT-file whose dimensions overflow is refused")
    func matOverflow() throws {
        func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        var header = [UInt8](repeating: 32, count: 128)
        for (i, byte) in "MATLAB 5.0 MAT-file".utf8.enumerated() { header[i] = byte }
        header[124] = 0; header[125] = 1; header[126] = UInt8(ascii: "I"); header[127] = UInt8(ascii: "M")
        let flags = u32(6) + u32(8) + u32(9) + u32(0) // miUINT32, 8 bytes: class uint8
        let dims = u32(5) + u32(16) + u32(0x7fff_ffff) + u32(0x7fff_ffff) + u32(0x7fff_ffff) + u32(0x7fff_ffff)
        let name = u32(1) + u32(1) + [UInt8(ascii: "X")] + [UInt8](repeating: 0, count: 7)
        let real = u32(2) + u32(8) + [UInt8](repeating: 1, count: 8)
        let body = flags + dims + name + real
        let bytes = header + u32(14) + u32(UInt32(body.count)) + body
        #expect(throws: DatasetError.self) { try MATFile(bytes: bytes, path: "overflow.mat") }
    }

    @Test("A class list naming a class twice is refused; a test split lacking a class keeps the others' labels")
    func classLists() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let image = try ImageCodec.encodePNG([UInt8](repeating: 50, count: 3 * 4 * 4), width: 4, height: 4)
        for cls in ["a", "b", "c"] { try folder.write(image, to: "tree/train/\(cls)/0.png") }
        for cls in ["b", "c"] { try folder.write(image, to: "tree/test/\(cls)/0.png") }
        let test = try ImageFolder.load(from: folder.file("tree"), split: "test")
        #expect(test.classNames == ["a", "b", "c"])
        #expect(test.labels == .single([1, 2]))

        try folder.write("a\nb\na\n", to: "tree/labels.txt")
        do {
            _ = try ImageFolder.load(from: folder.file("tree"), split: "train")
            Issue.record("a class list naming 'a' twice was accepted")
        } catch {
            #expect("\(error)".contains("listed twice"))
        }
    }

    @Test("A data-set cache declaring 2^31 images in a small file is refused at opening")
    func cacheDeclaringMoreThanItStores() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // Every attribute as `gradfeat cache` writes it, and /images declaring 2^31 rows whose chunks were never written.
        let url = URL(fileURLWithPath: folder.file("huge.h5"))
        let n = 1 << 31
        try HDF5File.writeAtomically(to: url, format: DatasetCache.format, version: DatasetCache.version) { file in
            try file.setAttribute("class_names", ["a", "b"])
            try file.setAttribute("count", n)
            try file.setAttribute("image_shape", [1, 28, 28])
            try file.setAttribute("source", "hostile")
            try file.setAttribute("split", "train")
            _ = try file.createDataset(
                "images", elementType: .uint8, shape: [n, 1, 28, 28],
                options: DatasetOptions(chunkShape: [16, 1, 28, 28], compression: .deflate(level: 4)))
            _ = try file.createDataset(
                "labels", elementType: .int64, shape: [n], options: DatasetOptions(chunkShape: [1 << 16]))
        }
        #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0 < 100_000)
        do {
            _ = try DatasetCacheReader(url: url)
            Issue.record("a cache declaring 2^31 images in a small file was opened")
        } catch {
            #expect("\(error)".contains("chunks are stored"))
        }
    }
}
