/// Decodes many image files of a ``FileBundle`` in parallel into one `[N, C, H, W]` buffer.
enum ImageBatchDecoder {
    /// Decodes the files at `indices` (in that order).
    ///
    /// - Parameters:
    ///   - size: the output size; `nil` takes the size of the first image (others are resized to it).
    ///   - mode: how images of another aspect ratio are fitted.
    /// - Returns: the pixels and the size used.
    static func decode(
        _ bundle: FileBundle, indices: [Int], tree: FileTree, channels: Int, size: ImageSize?,
        mode: ImageResampler.ResizeMode, threads: Int
    ) throws(DatasetError) -> (pixels: [UInt8], size: ImageSize) {
        guard !indices.isEmpty else { return ([], size ?? ImageSize(1)) }
        let target = try targetSize(bundle, indices: indices, tree: tree, channels: channels, size: size)
        return (
            try decode(
                bundle, indices: indices, tree: tree, channels: channels, target: target, mode: mode,
                threads: threads), target
        )
    }

    /// `size`, or when nil the size of the first file at `indices`.
    static func targetSize(
        _ bundle: FileBundle, indices: [Int], tree: FileTree, channels: Int, size: ImageSize?
    ) throws(DatasetError) -> ImageSize {
        let target: ImageSize
        if let size {
            target = size
        } else if indices.isEmpty {
            target = ImageSize(1)
        } else {
            let first = indices[0]
            let place = tree.describe(bundle.paths[first])
            target = try bundle.withContents(at: first) { raw in
                catching { () throws(DatasetError) -> ImageSize in
                    try ImageCodec.withDecodedPixels(
                        raw, channels: channels, path: place.path, entry: place.entry
                    ) { _, w, h in ImageSize(height: h, width: w) }
                }
            }.get()
        }
        return target
    }

    /// Decodes the files at `indices` (in that order) to `target`.
    static func decode(
        _ bundle: FileBundle, indices: [Int], tree: FileTree, channels: Int, target: ImageSize,
        mode: ImageResampler.ResizeMode, threads: Int
    ) throws(DatasetError) -> [UInt8] {
        guard !indices.isEmpty else { return [] }
        let stride = channels * target.height * target.width
        var pixels = [UInt8](repeating: 0, count: indices.count * stride)
        try pixels.withUnsafeMutableBufferPointer { out in
            catching { () throws(DatasetError) in
                let destination = UncheckedSendable(value: out.baseAddress!)
                try Parallel.forEachChunk(count: indices.count, threads: threads) {
                    (range) throws(DatasetError) in
                    for j in range {
                        let index = indices[j]
                        let place = tree.describe(bundle.paths[index])
                        try bundle.withContents(at: index) { raw in
                            catching { () throws(DatasetError) in
                                try ImageCodec.withDecodedPixels(
                                    raw, channels: channels, path: place.path, entry: place.entry
                                ) { hwc, w, h in
                                    let rect = ImageResampler.sourceRect(
                                        width: w, height: h, target: target, mode: mode)
                                    ImageResampler.resample(
                                        hwc.baseAddress!, layout: .interleaved, width: w, height: h,
                                        channels: channels, rect: rect,
                                        into: destination.value + j * stride, target: target)
                                }
                            }
                        }.get()
                    }
                }
            }
        }.get()
        return pixels
    }
}
