import Datasets
import Foundation
import Tensor

/// Images [N, C, H, W] with values in [0, 1] tiled into one PNG, row by row, with a white gap between tiles.
public enum SampleGrid {
    public static func png(_ images: Tensor, columns: Int, gap: Int = 2) throws -> [UInt8] {
        try images.checkRank(4, "sample grid", pattern: "[N, C, H, W]")
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let rows = (n + columns - 1) / columns
        let (width, height) = (columns * (w + gap) + gap, rows * (h + gap) + gap)
        var pixels = [UInt8](repeating: 255, count: c * width * height)
        images.withUnsafeBufferPointer { x in
            for k in 0..<n {
                let (top, left) = (gap + (k / columns) * (h + gap), gap + (k % columns) * (w + gap))
                for channel in 0..<c {
                    for i in 0..<h {
                        for j in 0..<w {
                            let value = x[((k * c + channel) * h + i) * w + j]
                            let byte = (value.isFinite ? min(max(value, 0), 1) : 0) * 255
                            pixels[(channel * height + top + i) * width + left + j] = UInt8(byte.rounded())
                        }
                    }
                }
            }
        }
        return try ImageCodec.encodePNG(pixels, width: width, height: height, channels: c)
    }
}
