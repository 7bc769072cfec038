// PNG (libpng) decoding to grey or RGB; input: 1 choice byte (odd: grey),
// then the file; a file without the magic number gets it, so every input reaches the decoder.
import FuzzSupport

let magic: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    fuzzImageDecoder(start, count, magic: magic)
    return 0
}
