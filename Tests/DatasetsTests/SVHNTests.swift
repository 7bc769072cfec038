import Datasets
import Testing

@Suite("SVHN / MAT-file")
struct SVHNTests {
    private func le32(_ v: Int) -> [UInt8] { [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: v >> $0) } }

    private func element(_ type: Int, _ data: [UInt8], pad: Bool = true) -> [UInt8] {
        let padding = pad ? (8 - data.count % 8) % 8 : 0
        return le32(type) + le32(data.count) + data + [UInt8](repeating: 0, count: padding)
    }

    /// A miMATRIX element; `dataType` is how the real part is stored.
    private func matrix(_ name: String, classID: Int, dims: [Int], dataType: Int, data: [UInt8]) -> [UInt8] {
        element(
            14,
            element(6, [UInt8(classID), 0, 0, 0, 0, 0, 0, 0]) + element(5, dims.flatMap(le32))
                + element(1, Array(name.utf8)) + element(dataType, data))
    }

    private func header() -> [UInt8] {
        let text = Array("MATLAB 5.0 MAT-file, Platform: test".utf8)
        return text + [UInt8](repeating: 32, count: 116 - text.count) + [UInt8](repeating: 0, count: 8)
            + [0x00, 0x01, UInt8(ascii: "I"), UInt8(ascii: "M")]
    }

    @Test("X [H, W, 3, N] column-major and y 1…10 become [N, 3, H, W] and digits")
    func svhnLayout() throws {
        let (h, w, n) = (4, 2, 2)
        var x = [UInt8](repeating: 0, count: h * w * 3 * n)
        for i in 0..<n {
            for ch in 0..<3 {
                for c in 0..<w {
                    for r in 0..<h {
                        x[r + h * c + h * w * ch + h * w * 3 * i] = UInt8(r + 10 * c + 50 * ch + 100 * i)
                    }
                }
            }
        }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // y stored compactly as uint8 inside a compressed element, as MATLAB does for doubles.
        let y = matrix("y", classID: 6, dims: [n, 1], dataType: 2, data: [10, 3])
        let file =
            header() + matrix("X", classID: 9, dims: [h, w, 3, n], dataType: 2, data: x)
            + element(15, Gzip.compress(y, container: .zlib), pad: false)
        try folder.write(file, to: "test_32x32.mat")
        let set = try SVHN.load(path: folder.file("test_32x32.mat"))
        #expect(set.split == "test")
        #expect(set.count == 2 && set.channels == 3 && set.height == 4 && set.width == 2)
        #expect(set.labels == .single([0, 3]))
        var expected = [UInt8]()
        for i in 0..<n {
            for ch in 0..<3 {
                for r in 0..<h {
                    for c in 0..<w {
                        expected.append(UInt8(r + 10 * c + 50 * ch + 100 * i))
                    }
                }
            }
        }
        #expect(set.images == expected)

        // Labels stored as miDOUBLE work too; a missing variable is named.
        let doubles = [10.0, 1.0].flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
        try folder.write(
            header() + matrix("X", classID: 9, dims: [h, w, 3, n], dataType: 2, data: x)
                + matrix("y", classID: 6, dims: [n, 1], dataType: 9, data: doubles),
            to: "train_32x32.mat")
        #expect(try SVHN.load(path: folder.file("train_32x32.mat")).labels == .single([0, 1]))
        try folder.write(
            header() + matrix("X", classID: 9, dims: [h, w, 3, n], dataType: 2, data: x), to: "extra_32x32.mat")
        #expect(throws: DatasetError.self) { try SVHN.load(path: folder.file("extra_32x32.mat")) }
        do {
            _ = try SVHN.load(path: folder.file("extra_32x32.mat"))
        } catch {
            #expect(
                error
                    == .missingField(
                        path: folder.file("extra_32x32.mat"), field: "y", context: "the MAT-file (it has: X)"))
        }
    }
}
