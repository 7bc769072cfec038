// JPEG (libjpeg-turbo) decoding to grey or RGB; input: 1 choice byte (odd: grey),
// then the file; a file without the magic number gets it, so every input reaches the decoder.
import FuzzSupport

let magic: [UInt8] = [0xff, 0xd8, 0xff]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    fuzzImageDecoder(start, count, magic: magic)
    return 0
}
