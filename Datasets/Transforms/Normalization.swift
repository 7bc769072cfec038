/// Conversion of 8-bit pixels to normalised `Float`:
///
/// ```
/// y = (x / 255 - mean[c]) / std[c]     computed as  y = x * scale[c] + bias[c]
/// ```
///
/// `scale` and `bias` are computed once per normalisation, not per batch.
public struct Normalization: Sendable, Equatable {
    /// Per-channel mean of the `[0, 1]`-scaled pixels.
    public let mean: [Float]
    /// Per-channel standard deviation of the `[0, 1]`-scaled pixels.
    public let std: [Float]
    /// `1 / (255 std[c])`, or `1/255` for every channel when `mean` is empty.
    let scale: [Float]
    /// `-mean[c] / std[c]`.
    let bias: [Float]

    /// Per-channel normalisation. - Precondition: same length, positive `std`.
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "mean and std need one value per channel")
        precondition(std.allSatisfy { $0 > 0 }, "std must be positive")
        self.mean = mean
        self.std = std
        scale = std.map { 1 / (255 * $0) }
        bias = zip(mean, std).map { -$0 / $1 }
    }

    /// Only scales to `[0, 1]` (any channel count).
    public static let unit = Normalization(mean: [], std: [])

    /// The CIFAR-10 training-set statistics commonly used.
    public static let cifar10 = Normalization(
        mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])

    /// The ImageNet statistics commonly used for pretrained networks.
    public static let imageNet = Normalization(
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// The per-channel mean and (population) standard deviation of `set`'s `[0, 1]` pixels.
    public static func estimate(from set: ImageSet) -> Normalization {
        let plane = set.height * set.width
        var sums = [Double](repeating: 0, count: set.channels)
        var squares = [Double](repeating: 0, count: set.channels)
        set.images.withUnsafeBufferPointer { src in
            for i in 0..<set.count {
                for c in 0..<set.channels {
                    let start = src.baseAddress! + (i * set.channels + c) * plane
                    var s: UInt64 = 0
                    var q: UInt64 = 0
                    for p in 0..<plane {
                        let v = UInt64(start[p])
                        s += v
                        q += v * v
                    }
                    sums[c] += Double(s)
                    squares[c] += Double(q)
                }
            }
        }
        let n = Double(max(1, set.count * plane))
        let mean = sums.map { $0 / n / 255 }
        let std = zip(squares, mean).map { q, m in
            max(((q / n / (255 * 255)) - m * m).squareRoot(), 1e-6)
        }
        return Normalization(mean: mean.map(Float.init), std: std.map(Float.init))
    }

    /// Normalises one `[C, H, W]` image.
    public func apply(
        _ image: UnsafeBufferPointer<UInt8>, channels: Int, into out: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(out.count == image.count, "output size differs from input")
        precondition(
            mean.isEmpty || mean.count == channels, "normalisation has \(mean.count) channels, image \(channels)")
        guard let src = image.baseAddress, let dst = out.baseAddress else { return }
        let plane = image.count / channels
        for c in 0..<channels {
            let a = mean.isEmpty ? 1 / Float(255) : scale[c]
            let b = mean.isEmpty ? 0 : bias[c]
            let s = src + c * plane
            let d = dst + c * plane
            for p in 0..<plane { d[p] = Float(s[p]) * a + b }
        }
    }
}
