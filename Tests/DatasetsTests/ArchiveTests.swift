import Datasets
import Foundation
import Testing

@Suite("gzip and tar")
struct ArchiveTests {
    /// `xz -c` of `data`, by the xz tool (the test's reference encoder).
    static func xz(_ data: [UInt8]) throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gradfeat-xz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("data")
        try Data(data).write(to: plain)
        _ = try runTool("/usr/bin/xz", ["-k", "-6", plain.path])
        return [UInt8](try Data(contentsOf: folder.appendingPathComponent("data.xz")))
    }

    @Test(
        "xz in process: round trip, concatenated streams, truncation, corruption and bombs refused",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/xz")))
    func xzInProcess() throws {
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 13 / 5) }
        let packed = try Self.xz(data)
        #expect(XZ.isXZ(packed))
        #expect(try XZ.decompress(packed, name: "a.xz") == data)
        #expect(try CompressedFile.decompress(packed, name: "a.xz") == data, "xz inside an archive")
        let second = try Self.xz([1, 2, 3])
        #expect(try XZ.decompress(packed + second, name: "ab.xz") == data + [1, 2, 3], "concatenated streams")
        var corrupt = packed
        corrupt[200] ^= 0xFF
        for bad in [Array(packed.dropLast(40)), corrupt] {
            let message = Self.failure { try XZ.decompress(bad, name: "bad.xz") }
            #expect(message?.contains("bad.xz") == true, "\(message ?? "accepted")")
        }
        let zeros = try Self.xz([UInt8](repeating: 0, count: 8 << 20))
        #expect(throws: DatasetError.self) {
            try XZ.decompress(zeros, name: "bomb.xz", limits: ReadLimits(maxExpansion: 10, expansionAllowance: 1 << 16))
        }
    }

    /// The error `body` throws, as text; nil when it succeeds.
    static func failure(_ body: () throws -> [UInt8]) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("gzip round trip, concatenated members, truncation detected")
    func gzip() throws {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        let packed = Gzip.compress(data)
        #expect(packed.count < data.count)
        #expect(try Gzip.decompress(packed) == data)
        #expect(try Gzip.decompress(packed + Gzip.compress([1, 2, 3])) == data + [1, 2, 3])
        #expect(throws: DatasetError.self) { try Gzip.decompress(Array(packed.dropLast(40)), name: "cut.gz") }
    }

    @Test("tar reader handles long names, folders and matches GNU tar")
    func tarLongNames() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let longDir = String(repeating: "d", count: 80) + "/" + String(repeating: "e", count: 60)
        try folder.write("hello", to: "t/short.txt")
        try folder.write([UInt8](repeating: 9, count: 1_000), to: "t/\(longDir)/long-name-file.bin")
        try folder.write([UInt8](), to: "t/empty")
        for format in ["gnu", "posix", "ustar"] {
            let archive = folder.file("t-\(format).tar")
            let members = format == "ustar" ? ["t/short.txt", "t/empty"] : ["t"]
            try runTool("/usr/bin/tar", ["--format=\(format)", "-cf", archive, "-C", folder.path] + members)
            var reader = try TarReader(path: archive)
            var seen: [String: [UInt8]] = [:]
            while let entry = try reader.next() { seen[entry.path] = try reader.readContents() }
            #expect(seen["t/short.txt"] == Array("hello".utf8), "format \(format)")
            #expect(seen["t/empty"] == [], "format \(format)")
            if format != "ustar" {
                #expect(
                    seen["t/\(longDir)/long-name-file.bin"] == [UInt8](repeating: 9, count: 1_000), "format \(format)")
                #expect(seen.count == 3, "format \(format)")
            }
        }
        #expect(throws: DatasetError.self) {
            var reader = try TarReader(bytes: [UInt8](repeating: 65, count: 1024), name: "junk.tar")
            _ = try reader.next()
        }
    }
}
