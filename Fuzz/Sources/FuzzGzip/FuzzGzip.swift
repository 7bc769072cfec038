// gzip / zlib streams: in memory, from a file, and through CompressedFile's magic-number detection.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        let bytes = input.rest()
        attempt { try Gzip.decompress(bytes, name: "input.gz") }
        let path = Scratch.write(bytes, to: "input.gz")
        attempt { try Gzip.decompress(contentsOfFile: path) }
        _ = try CompressedFile.read(path: path)
    }
    return 0
}
