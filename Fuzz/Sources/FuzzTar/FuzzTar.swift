// tar archives (ustar, GNU long names, pax; raw or gzip): streamed from memory and read through FileTree.
// Input: 1 choice byte (which entries to read rather than skip), then the archive.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        let skip = input.byte()
        let bytes = input.rest()
        attempt {
            var reader = try TarReader(bytes: bytes, name: "input.tar")
            var index = 0
            while try reader.next() != nil {
                if (skip >> (index % 8)) & 1 == 0 { _ = try reader.readContents() }
                index += 1
            }
        }
        let path = Scratch.write(bytes, to: "input.tar")
        let tree = try FileTree(path: path)
        attempt { try tree.listFiles() }
        let bundle = try tree.load { relative in relative.utf8.count % 2 == Int(skip & 1) || skip & 2 == 0 }
        _ = bundle.paths.map { bundle.text(at: $0) }
    }
    return 0
}
