import Datasets

/// The body of the JPEG and PNG targets: 1 choice byte (odd: grey), then the file; a file without `magic` gets it,
/// so every input reaches the decoder. The decoded size must agree with the width, height and channels.
public func fuzzImageDecoder(_ start: UnsafePointer<UInt8>, _ count: Int, magic: [UInt8]) {
    runFuzzInput(start, count) { input in
        let channels = input.byte() & 1 == 1 ? 1 : 3
        var bytes = input.rest()
        if !bytes.starts(with: magic) { bytes = magic + bytes }
        let image = try ImageCodec.decode(bytes, channels: channels, name: "input")
        precondition(image.pixels.count == image.width * image.height * channels, "decoded size disagrees")
    }
}
