import Tensor

/// Train-time augmentation of images [N, C, H, W]: each sample is cropped at a random offset from its copy padded
/// by `padding` zeros on every side, then mirrored left-right with probability ½ when `mirror` is set —
/// torchvision's `RandomCrop(size, padding)` followed by `RandomHorizontalFlip()`, the standard CIFAR augmentation
/// with `padding` 4. In evaluation it is the identity.
///
/// The offsets come from `mode.seed`, `salt` and the sample's position in the batch, so a step seeded alike is
/// augmented alike (a resumed run repeats them). For fixed offsets the map is linear — a selection of input pixels
/// — so the tangent goes through the same map and the input gradient is its transpose, a scatter.
///
/// ```
/// y[n, c, i, j] = x̃[n, c, i + a_n, j′ + b_n]     j′ = W − 1 − j when sample n is mirrored, else j
/// ```
/// with `x̃` the zero-padded input and `a_n, b_n` uniform in `0…2·padding`.
public struct RandomCropFlip: Layer {
    public let padding: Int
    public let mirror: Bool
    public let salt: UInt64

    public init(padding: Int = 4, mirror: Bool = true, salt: UInt64 = 0) {
        precondition(padding >= 0, "padding must be non-negative")
        self.padding = padding
        self.mirror = mirror
        self.salt = salt
    }

    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
    public var parameterNames: [String] { [] }

    public func outputShape(for input: Shape) throws -> Shape { input }

    /// Where sample `n` of a batch under `seed` is read from: its row and column offsets in the padded image and
    /// whether it is mirrored.
    public func placement(sample n: Int, seed: UInt64) -> (top: Int, left: Int, mirrored: Bool) {
        var rng = SeededRandom(seed: (seed ^ (salt &* 0x9E37_79B9_7F4A_7C15)) &+ UInt64(n) &* 0xD6E8_FEB8_6659_FD93)
        let range = UInt64(2 * padding + 1)
        let top = Int(rng.next() % range), left = Int(rng.next() % range)
        return (top, left, mirror && rng.next() >> 63 == 1)
    }

    public func apply(_ input: Tensor, tangent: Tensor?, parameterTangent: [Tensor]?, mode: Mode) throws -> LayerOutput
    {
        guard mode.isTraining, padding > 0 || mirror else {
            return LayerOutput(value: input, tangent: tangent, record: Record(input: input))
        }
        guard input.rank == 4 else {
            throw TensorError.invalidArgument("RandomCropFlip takes images [N, C, H, W], not \(input.shape)")
        }
        if let tangent { try tangent.check(input.shape, "RandomCropFlip tangent") }
        let places = (0..<input.shape[0]).map { placement(sample: $0, seed: mode.seed) }
        return LayerOutput(
            value: select(input, places), tangent: tangent.map { select($0, places) },
            record: Record(input: input, saved: [Self.encode(places)]))
    }

    public func vjp(_ record: Record, outputGradient: Tensor, needInputGradient: Bool, mode: Mode) throws -> Gradients {
        try outputGradient.check(record.input.shape, "RandomCropFlip output gradient")
        guard needInputGradient else { return Gradients(input: nil, parameters: []) }
        guard let saved = record.saved.first else { return Gradients(input: outputGradient, parameters: []) }
        return Gradients(input: scatter(outputGradient, Self.decode(saved)), parameters: [])
    }

    // MARK: - The selection and its transpose

    /// For each output pixel of sample `n`, the input pixel it reads (or nil: padding), calling `body(out, in)`.
    private func forEachPixel(
        _ shape: Shape, _ places: [(top: Int, left: Int, mirrored: Bool)], _ body: (Int, Int) -> Void
    ) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        for sample in 0..<n {
            let place = places[sample]
            for channel in 0..<c {
                let plane = (sample * c + channel) * h * w
                for y in 0..<h {
                    let sy = y + place.top - padding
                    guard sy >= 0, sy < h else { continue }
                    for x in 0..<w {
                        let sx = (place.mirrored ? w - 1 - x : x) + place.left - padding
                        if sx >= 0, sx < w { body(plane + y * w + x, plane + sy * w + sx) }
                    }
                }
            }
        }
    }

    private func select(_ input: Tensor, _ places: [(top: Int, left: Int, mirrored: Bool)]) -> Tensor {
        var output = Tensor.zeros(input.shape)
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                forEachPixel(input.shape, places) { out, from in target[out] = source[from] }
            }
        }
        return output
    }

    private func scatter(_ gradient: Tensor, _ places: [(top: Int, left: Int, mirrored: Bool)]) -> Tensor {
        var input = Tensor.zeros(gradient.shape)
        gradient.withUnsafeBufferPointer { source in
            input.withUnsafeMutableBufferPointer { target in
                forEachPixel(gradient.shape, places) { out, from in target[from] += source[out] }
            }
        }
        return input
    }

    private static func encode(_ places: [(top: Int, left: Int, mirrored: Bool)]) -> Tensor {
        Tensor(shape: [places.count, 3]) { out in
            for (i, place) in places.enumerated() {
                (out[3 * i], out[3 * i + 1], out[3 * i + 2]) = (
                    Float(place.top), Float(place.left), place.mirrored ? 1 : 0
                )
            }
        }
    }

    private static func decode(_ saved: Tensor) -> [(top: Int, left: Int, mirrored: Bool)] {
        (0..<saved.shape[0]).map { i in
            (Int(saved.scalars[3 * i]), Int(saved.scalars[3 * i + 1]), saved.scalars[3 * i + 2] != 0)
        }
    }
}
