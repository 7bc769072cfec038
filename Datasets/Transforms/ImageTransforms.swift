/// Per-image geometric transforms on raw `[C, H, W]` 8-bit buffers.
///
/// These are the kernels behind the ``ImageSet`` transform methods (`resized`, `centerCropped`,
/// `randomCropped`, `randomlyFlipped`); they work on unsafe buffers so that batch loops do no
/// per-element array indexing.
public enum ImageTransforms {
    /// Copies the `size` window whose top-left corner is at (`top`, `left`) in the image padded by
    /// zeros (coordinates may be negative or reach past the border: outside pixels are 0).
    public static func crop(
        _ src: UnsafePointer<UInt8>, channels: Int, height: Int, width: Int, top: Int, left: Int,
        into dst: UnsafeMutablePointer<UInt8>, size: ImageSize
    ) {
        let plane = height * width
        var out = dst
        for c in 0..<channels {
            let base = src + c * plane
            for y in 0..<size.height {
                let sy = top + y
                if sy < 0 || sy >= height {
                    out.update(repeating: 0, count: size.width)
                    out += size.width
                    continue
                }
                let row = base + sy * width
                // Columns [x0, x1) of the output come from inside the image.
                let x0 = min(size.width, max(0, -left))
                let x1 = max(x0, min(size.width, width - left))
                if x0 > 0 { out.update(repeating: 0, count: x0) }
                if x1 > x0 { (out + x0).update(from: row + left + x0, count: x1 - x0) }
                if x1 < size.width { (out + x1).update(repeating: 0, count: size.width - x1) }
                out += size.width
            }
        }
    }

    /// Mirrors an image left-right in place.
    public static func flipHorizontally(
        _ image: UnsafeMutablePointer<UInt8>, channels: Int, height: Int, width: Int
    ) {
        for row in 0..<(channels * height) {
            var a = image + row * width
            var b = a + width - 1
            while a < b {
                let t = a.pointee
                a.pointee = b.pointee
                b.pointee = t
                a += 1
                b -= 1
            }
        }
    }
}
