import Foundation
import Testing

import Datasets

@Suite("gzip and tar")
struct ArchiveTests {
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
                #expect(seen["t/\(longDir)/long-name-file.bin"] == [UInt8](repeating: 9, count: 1_000), "format \(format)")
                #expect(seen.count == 3, "format \(format)")
            }
        }
        #expect(throws: DatasetError.self) {
            var reader = try TarReader(bytes: [UInt8](repeating: 65, count: 1024), name: "junk.tar")
            _ = try reader.next()
        }
    }
}
