/// Bilinear resampling and layout conversion of 8-bit images on raw buffers.
///
/// Sampling uses pixel centres (the convention of OpenCV's `INTER_LINEAR` and PyTorch's
/// `align_corners=False`): destination pixel `x` reads the source at
///
/// ```
/// sx = x0 + (x + 0.5) * cropWidth / dstWidth - 0.5     (clamped to the image)
/// ```
///
/// Bilinear interpolation does not low-pass filter, so shrinking by more than ~2x aliases; that is
/// the usual trade-off of data-set loaders and matches the brief's "bilinear" contract.
public enum ImageResampler {
    /// How an image is fitted to a target size of another aspect ratio.
    public enum ResizeMode: Sendable, Equatable {
        /// Scale each axis independently to fill the target (aspect ratio not kept).
        case stretch
        /// Scale to cover the target keeping the aspect ratio, then crop the centre.
        case centerCrop
    }

    /// Memory layout of a source image.
    public enum Layout: Sendable, Equatable {
        /// `[H, W, C]`, as decoders produce.
        case interleaved
        /// `[C, H, W]`, as ``ImageSet`` stores.
        case planar
    }

    /// A source rectangle in (fractional) pixels.
    public struct Rect: Sendable, Equatable {
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double

        public init(x: Double, y: Double, width: Double, height: Double) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
        }
    }

    /// The source rectangle that `mode` maps onto a `target` from a `width` x `height` image.
    public static func sourceRect(width: Int, height: Int, target: ImageSize, mode: ResizeMode) -> Rect {
        switch mode {
        case .stretch:
            return Rect(x: 0, y: 0, width: Double(width), height: Double(height))
        case .centerCrop:
            let scale = max(Double(target.width) / Double(width), Double(target.height) / Double(height))
            let w = Double(target.width) / scale
            let h = Double(target.height) / scale
            return Rect(x: (Double(width) - w) / 2, y: (Double(height) - h) / 2, width: w, height: h)
        }
    }

    /// Converts `[H, W, C]` pixels to `[C, H, W]`.
    public static func interleavedToPlanar(
        _ src: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
        into dst: UnsafeMutablePointer<UInt8>
    ) {
        let plane = width * height
        if channels == 1 {
            dst.update(from: src, count: plane)
            return
        }
        for c in 0..<channels {
            let out = dst + c * plane
            var s = src + c
            for i in 0..<plane {
                out[i] = s.pointee
                s += channels
            }
        }
    }

    /// Resamples the `rect` region of a source image into a `[C, H, W]` destination of `target`
    /// size, bilinearly. When the region is the whole image at the target size, pixels are copied.
    public static func resample(
        _ src: UnsafePointer<UInt8>, layout: Layout, width: Int, height: Int, channels: Int,
        rect: Rect? = nil, into dst: UnsafeMutablePointer<UInt8>, target: ImageSize
    ) {
        let region = rect ?? Rect(x: 0, y: 0, width: Double(width), height: Double(height))
        let identity =
            region == Rect(x: 0, y: 0, width: Double(width), height: Double(height))
            && target.width == width && target.height == height
        if identity {
            switch layout {
            case .planar: dst.update(from: src, count: width * height * channels)
            case .interleaved:
                interleavedToPlanar(src, width: width, height: height, channels: channels, into: dst)
            }
            return
        }
        // Strides of the source, in elements.
        let pixelStride = layout == .interleaved ? channels : 1
        let rowStride = width * pixelStride
        let channelStride = layout == .interleaved ? 1 : width * height
        let xs = taps(count: target.width, start: region.x, length: region.width, limit: width)
        let ys = taps(count: target.height, start: region.y, length: region.height, limit: height)
        let plane = target.width * target.height
        xs.withUnsafeBufferPointer { xt in
            ys.withUnsafeBufferPointer { yt in
                for c in 0..<channels {
                    let base = src + c * channelStride
                    var out = dst + c * plane
                    for y in 0..<target.height {
                        let ty = yt[y]
                        let row0 = base + ty.lower * rowStride
                        let row1 = base + ty.upper * rowStride
                        let wy = ty.weight
                        for x in 0..<target.width {
                            let tx = xt[x]
                            let i0 = tx.lower * pixelStride
                            let i1 = tx.upper * pixelStride
                            let top = Float(row0[i0]) + tx.weight * (Float(row0[i1]) - Float(row0[i0]))
                            let bottom =
                                Float(row1[i0]) + tx.weight * (Float(row1[i1]) - Float(row1[i0]))
                            let value = top + wy * (bottom - top)
                            out.pointee = UInt8(min(255, max(0, value + 0.5)))
                            out += 1
                        }
                    }
                }
            }
        }
    }

    /// Interpolation taps: the two source indices and the weight of the upper one.
    struct Tap {
        var lower: Int
        var upper: Int
        var weight: Float
    }

    static func taps(count: Int, start: Double, length: Double, limit: Int) -> [Tap] {
        let scale = length / Double(count)
        return (0..<count).map { i in
            let s = min(max(start + (Double(i) + 0.5) * scale - 0.5, 0), Double(limit - 1))
            let lower = Int(s.rounded(.down))
            let upper = min(lower + 1, limit - 1)
            return Tap(lower: lower, upper: upper, weight: Float(s - Double(lower)))
        }
    }
}
