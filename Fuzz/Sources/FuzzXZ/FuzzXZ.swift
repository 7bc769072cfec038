// xz files, decompressed by the `xz` tool: directly and through CompressedFile's magic-number detection.
import Datasets
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    runFuzzInput(start, count) { input in
        let path = Scratch.write(input.rest(), to: "input.xz")
        attempt { try XZ.decompress(contentsOfFile: path) }
        _ = try CompressedFile.read(path: path)
    }
    return 0
}
