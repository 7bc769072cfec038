/// Geometric transforms and float conversion of whole image sets.
extension ImageSet {
    /// Every image resized to `size` (bilinear, see ``ImageResampler``).
    public func resized(to size: ImageSize, mode: ImageResampler.ResizeMode = .stretch) -> ImageSet {
        if size.height == height && size.width == width { return self }
        let outStride = channels * size.height * size.width
        var pixels = [UInt8](repeating: 0, count: count * outStride)
        let rect = ImageResampler.sourceRect(width: width, height: height, target: size, mode: mode)
        images.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    ImageResampler.resample(
                        src.baseAddress! + i * imageByteCount, layout: .planar, width: width,
                        height: height, channels: channels, rect: rect,
                        into: dst.baseAddress! + i * outStride, target: size)
                }
            }
        }
        return replacingImages(pixels, channels: channels, height: size.height, width: size.width)
    }

    /// The central `size` window of every image (`size` must not exceed the image).
    public func centerCropped(to size: ImageSize) -> ImageSet {
        precondition(size.height <= height && size.width <= width, "crop larger than the image")
        let top = (height - size.height) / 2
        let left = (width - size.width) / 2
        return cropped(to: size) { _ in (top, left) }
    }

    /// A random `size` window of every image after zero-padding each side by `padding` pixels
    /// (the standard CIFAR augmentation is `size` 32x32 with `padding` 4).
    ///
    /// Offsets are drawn per image from `random`, top first, in image order.
    public func randomCropped(to size: ImageSize, padding: Int = 0, random: inout DatasetRandom)
        -> ImageSet
    {
        let rangeY = height + 2 * padding - size.height + 1
        let rangeX = width + 2 * padding - size.width + 1
        precondition(rangeY > 0 && rangeX > 0, "crop larger than the padded image")
        var offsets: [(Int, Int)] = []
        offsets.reserveCapacity(count)
        for _ in 0..<count {
            let top = random.next(below: rangeY) - padding
            let left = random.next(below: rangeX) - padding
            offsets.append((top, left))
        }
        return cropped(to: size) { offsets[$0] }
    }

    /// Every image mirrored left-right with probability `probability` (one draw per image, in order).
    public func randomlyFlipped(probability: Double = 0.5, random: inout DatasetRandom) -> ImageSet {
        var flips = [Bool](repeating: false, count: count)
        for i in 0..<count { flips[i] = random.nextUnit() < probability }
        return flipped { flips[$0] }
    }

    /// The images mirrored left-right where `shouldFlip(index)` is true.
    public func flipped(where shouldFlip: (Int) -> Bool) -> ImageSet {
        var copy = self
        let stride = imageByteCount
        let (c, h, w) = (channels, height, width)
        copy.images.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count where shouldFlip(i) {
                ImageTransforms.flipHorizontally(
                    buffer.baseAddress! + i * stride, channels: c, height: h, width: w)
            }
        }
        return copy
    }

    private func cropped(to size: ImageSize, offset: (Int) -> (Int, Int)) -> ImageSet {
        let outStride = channels * size.height * size.width
        var pixels = [UInt8](repeating: 0, count: count * outStride)
        images.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    let (top, left) = offset(i)
                    ImageTransforms.crop(
                        src.baseAddress! + i * imageByteCount, channels: channels, height: height,
                        width: width, top: top, left: left,
                        into: dst.baseAddress! + i * outStride, size: size)
                }
            }
        }
        return replacingImages(pixels, channels: channels, height: size.height, width: size.width)
    }

    /// The images at `indices` as normalised `Float`, `[indices.count, C, H, W]`.
    public func floatImages(
        _ indices: some Collection<Int>, normalization: Normalization = .unit
    ) -> [Float] {
        let stride = imageByteCount
        var out = [Float](repeating: 0, count: indices.count * stride)
        images.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (j, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "image index \(i) out of 0..<\(count)")
                    normalization.apply(
                        UnsafeBufferPointer(rebasing: src[i * stride..<(i + 1) * stride]),
                        channels: channels,
                        into: UnsafeMutableBufferPointer(rebasing: dst[j * stride..<(j + 1) * stride]))
                }
            }
        }
        return out
    }

    /// All images as normalised `Float`, `[N, C, H, W]`.
    public func floatImages(normalization: Normalization = .unit) -> [Float] {
        floatImages(0..<count, normalization: normalization)
    }
}
