import Layers
import Tensor

/// Images kept as uint8 [N, C, H, W] and converted to Float a mini-batch at a time, scaled as the model expects.
///
/// A data set stays 4x smaller than as floats; the conversion runs on unsafe buffers per batch.
public struct ImageBatches: ImageSource {
    public let pixels: [UInt8]
    public let imageShape: Shape
    public let targets: Targets
    public let classCount: Int
    public let scaling: InputScaling

    public init(pixels: [UInt8], imageShape: Shape, targets: Targets, classCount: Int, scaling: InputScaling) throws {
        guard imageShape.rank == 3, pixels.count == targets.count * imageShape.count else {
            throw GradFeatError.invalidConfiguration(
                "\(pixels.count) bytes do not hold \(targets.count) images of shape \(imageShape)")
        }
        self.pixels = pixels
        self.imageShape = imageShape
        self.targets = targets
        self.classCount = classCount
        self.scaling = scaling
    }

    public var count: Int { targets.count }
    public var residentBytes: Int { pixels.count }

    public func images(_ indices: [Int]) throws -> ImageBatches {
        try checkIndices(indices, of: "")
        return subset(indices)
    }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        let size = imageShape.count
        var gathered = [UInt8](repeating: 0, count: indices.count * size)
        pixels.withUnsafeBufferPointer { source in
            gathered.withUnsafeMutableBufferPointer { target in
                for (row, index) in indices.enumerated() {
                    (target.baseAddress! + row * size).update(from: source.baseAddress! + index * size, count: size)
                }
            }
        }
        let shape = Shape([indices.count] + imageShape.dimensions)
        let inputs = gathered.withUnsafeBufferPointer { scaling.apply($0, shape: shape) }
        return (inputs, targets.gathering(indices))
    }

    /// A 64-bit FNV-1a hash of the images (shape, pixels) and their targets, as "fnv1a64:<hex>": names the data an
    /// activation cache was made from by content, so that the same images read from a data set's files or from a
    /// data-set cache give the same name.
    public var contentHash: String {
        Self.contentHash(count: count, imageShape: imageShape, targets: targets) { hash in
            pixels.withUnsafeBytes { hash.combine(bytes: $0) }
        }
    }

    public func contentHash(batchSize: Int) -> String { contentHash }

    /// `contentHash` of `count` images of `imageShape` and their targets, whose pixels `combinePixels` feeds to the
    /// hash in order — all at once, or a batch at a time by a reader that streams them.
    public static func contentHash(
        count: Int, imageShape: Shape, targets: Targets, combinePixels: (inout FNV1a64) throws -> Void
    ) rethrows -> String {
        var hash = FNV1a64()
        for dimension in [count] + imageShape.dimensions { hash.combine(UInt64(dimension)) }
        try combinePixels(&hash)
        switch targets {
        case let .classes(labels):
            for label in labels { hash.combine(UInt64(bitPattern: Int64(label))) }
        case let .multiLabel(flags, classCount):
            hash.combine(UInt64(classCount))
            flags.withUnsafeBytes { hash.combine(bytes: $0) }
        case let .values(tensor):
            tensor.withUnsafeBufferPointer { buffer in
                for value in buffer { hash.combine(UInt64(value.bitPattern)) }
            }
        }
        return "fnv1a64:" + hash.hex
    }

    /// The zero border that brings images of side `side` to a fixed-size encoder's input side `input` (28×28 digits
    /// to the CIFAR encoder's 32×32): a small even margin only. Other sizes are fed as they are — ResNets pool
    /// globally and take any size; resize the data instead (`--image-size`) to change it.
    public static func paddingBorder(from side: Int, to input: Int) -> Int {
        let margin = input - side
        return margin > 0 && margin <= 8 && margin % 2 == 0 ? margin / 2 : 0
    }

    /// The images with a border of `border` zero pixels (28×28 MNIST-like images to the encoder's 32×32).
    public func padded(by border: Int) -> ImageBatches {
        guard border > 0 else { return self }
        let (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
        let (ph, pw) = (h + 2 * border, w + 2 * border)
        var bytes = [UInt8](repeating: 0, count: count * c * ph * pw)
        pixels.withUnsafeBufferPointer { source in
            bytes.withUnsafeMutableBufferPointer { target in
                for plane in 0..<(count * c) {
                    for y in 0..<h {
                        (target.baseAddress! + plane * ph * pw + (y + border) * pw + border)
                            .update(from: source.baseAddress! + plane * h * w + y * w, count: w)
                    }
                }
            }
        }
        return try! ImageBatches( // sizes computed above
            pixels: bytes, imageShape: [c, ph, pw], targets: targets, classCount: classCount, scaling: scaling)
    }

    /// The images at `indices` as a new set.
    public func subset(_ indices: [Int]) -> ImageBatches {
        let size = imageShape.count
        var bytes = [UInt8]()
        bytes.reserveCapacity(indices.count * size)
        for i in indices { bytes.append(contentsOf: pixels[(i * size)..<((i + 1) * size)]) }
        return try! ImageBatches( // counts match by construction
            pixels: bytes, imageShape: imageShape, targets: targets.gathering(indices), classCount: classCount,
            scaling: scaling)
    }
}

/// The rotation pretext task of Gidaris et al. (2018): every image four times, rotated by 0°, 90°, 180° and 270°,
/// labelled by its rotation (4 classes). Needs square images.
public struct RotatedBatches<Base: BatchSource>: BatchSource {
    public let base: Base

    public init(_ base: Base) throws {
        let shape = base.sampleShape
        guard shape.rank == 3, shape[1] == shape[2] else {
            throw GradFeatError.invalidConfiguration("rotation prediction needs square images, got \(shape)")
        }
        self.base = base
    }

    public var count: Int { base.count * 4 }
    public var sampleShape: Shape { base.sampleShape }
    public var classCount: Int { 4 }

    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: Targets) {
        let (images, _) = try base.batch(indices.map { $0 / 4 })
        let (channels, side) = (sampleShape[0], sampleShape[1])
        let plane = side * side
        let rotated = Tensor(shape: images.shape) { out in
            images.withUnsafeBufferPointer { x in
                for (row, index) in indices.enumerated() {
                    let quarter = index % 4
                    for c in 0..<channels {
                        let base = (row * channels + c) * plane
                        for y in 0..<side {
                            for x0 in 0..<side {
                                // Counter-clockwise by `quarter` quarter turns.
                                let (sy, sx): (Int, Int)
                                switch quarter {
                                case 1: (sy, sx) = (x0, side - 1 - y)
                                case 2: (sy, sx) = (side - 1 - y, side - 1 - x0)
                                case 3: (sy, sx) = (side - 1 - x0, y)
                                default: (sy, sx) = (y, x0)
                                }
                                out[base + y * side + x0] = x[base + sy * side + sx]
                            }
                        }
                    }
                }
            }
        }
        return (rotated, .classes(indices.map { $0 % 4 }))
    }
}
