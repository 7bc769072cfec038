import CJPEG
import CPNG

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// JPEG (libjpeg-turbo) and PNG (libpng) decoding and encoding of 8-bit images.
///
/// Decoded pixels are interleaved (`[H, W, C]`, "HWC"), as the codecs produce them; the loaders
/// convert them to the `[C, H, W]` layout of ``ImageSet``. Grey and colour files are converted to
/// the requested channel count by the codec. A JPEG that decodes only with corrupt-data warnings
/// (for example a truncated file) is treated as undecodable.
public enum ImageCodec {
    /// A file format, recognised from the magic number.
    public enum Format: Sendable, Equatable {
        case jpeg
        case png
    }

    /// The format of `bytes`, or `nil` when it is neither JPEG nor PNG.
    public static func format(of bytes: UnsafeRawBufferPointer) -> Format? {
        if bytes.count >= 3, bytes[0] == 0xff, bytes[1] == 0xd8, bytes[2] == 0xff { return .jpeg }
        if bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4e, bytes[3] == 0x47 {
            return .png
        }
        return nil
    }

    /// Decodes a JPEG or PNG and passes its interleaved pixels to `body`.
    ///
    /// - Parameters:
    ///   - bytes: the file contents.
    ///   - channels: 1 (grey) or 3 (RGB).
    ///   - path: the file (or archive) holding the image, for error messages.
    ///   - entry: the image's name inside an archive, for error messages.
    ///   - body: receives the pixels (`height * width * channels` bytes, valid only during the
    ///     call), the width and the height.
    public static func withDecodedPixels<R>(
        _ bytes: UnsafeRawBufferPointer, channels: Int, path: String, entry: String? = nil,
        _ body: (UnsafeBufferPointer<UInt8>, _ width: Int, _ height: Int) -> R
    ) throws(DatasetError) -> R {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        guard let format = format(of: bytes), let base = bytes.baseAddress else {
            throw .undecodableImage(path: path, entry: entry, reason: "not a JPEG or PNG file")
        }
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0
        var height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let limits = ReadLimits.current
        let maxPixels = limits.maxImagePixels
        let status: Int32 = message.withUnsafeMutableBufferPointer { text in
            let data = base.assumingMemoryBound(to: UInt8.self)
            switch format {
            case .jpeg:
                return gf_jpeg_decode(
                    data, UInt(bytes.count), Int32(channels), maxPixels, &pixels, &width, &height,
                    text.baseAddress)
            case .png:
                return gf_png_decode(
                    data, bytes.count, Int32(channels), maxPixels, &pixels, &width, &height, text.baseAddress)
            }
        }
        if status == 3 {
            throw .exceedsLimit(
                path: path, entry: entry,
                reason: limits.imageRefusal(width: Int(width), height: Int(height)) ?? "image too large")
        }
        guard status == 0, let pixels else {
            let reason = String(
                decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                as: UTF8.self)
            let kind = format == .jpeg ? "JPEG" : "PNG"
            throw .undecodableImage(
                path: path, entry: entry,
                reason: status == 2 ? "\(kind) damaged: \(reason)" : "\(kind): \(reason)")
        }
        defer { free(pixels) }
        let count = Int(width) * Int(height) * channels
        return body(UnsafeBufferPointer(start: pixels, count: count), Int(width), Int(height))
    }

    /// Decodes a JPEG or PNG into `[C, H, W]` pixels.
    public static func decode(_ bytes: [UInt8], channels: Int = 3, name: String = "<memory>")
        throws(DatasetError) -> (pixels: [UInt8], width: Int, height: Int)
    {
        try bytes.withUnsafeBytes { raw in
            catching { () throws(DatasetError) -> ([UInt8], Int, Int) in
                try withDecodedPixels(raw, channels: channels, path: name) { hwc, w, h in
                    var chw = [UInt8](repeating: 0, count: hwc.count)
                    chw.withUnsafeMutableBufferPointer { dst in
                        ImageResampler.interleavedToPlanar(
                            hwc.baseAddress!, width: w, height: h, channels: channels,
                            into: dst.baseAddress!)
                    }
                    return (chw, w, h)
                }
            }
        }.get()
    }

    /// Encodes `[C, H, W]` pixels (C = 1 or 3) as a baseline JPEG.
    public static func encodeJPEG(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int = 3, quality: Int = 90
    ) throws(DatasetError) -> [UInt8] {
        let hwc = planarToInterleaved(pixels, width: width, height: height, channels: channels)
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = hwc.withUnsafeBufferPointer { src in
            message.withUnsafeMutableBufferPointer { text in
                gf_jpeg_encode(
                    src.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality),
                    &output, &size, text.baseAddress)
            }
        }
        guard status == 0, let output else {
            throw .unsupported(path: "<memory>", reason: "JPEG encoding failed")
        }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    /// Encodes `[C, H, W]` pixels (C = 1 or 3) as PNG.
    public static func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 3)
        throws(DatasetError) -> [UInt8]
    {
        let hwc = planarToInterleaved(pixels, width: width, height: height, channels: channels)
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = hwc.withUnsafeBufferPointer { src in
            message.withUnsafeMutableBufferPointer { text in
                gf_png_encode(
                    src.baseAddress, Int32(width), Int32(height), Int32(channels), &output, &size,
                    text.baseAddress)
            }
        }
        guard status == 0, let output else {
            throw .unsupported(path: "<memory>", reason: "PNG encoding failed")
        }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    private static func planarToInterleaved(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int
    ) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(pixels.count == width * height * channels, "pixel count does not match size")
        var out = [UInt8](repeating: 0, count: pixels.count)
        let plane = width * height
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for i in 0..<plane { dst[i * channels + c] = src[c * plane + i] }
                }
            }
        }
        return out
    }
}
