/// An image-classification data set held in memory as 8-bit pixels.
///
/// Pixels are stored as one flat array laid out `[N, C, H, W]`: every image is channel-major
/// (all of channel 0 row by row, then channel 1, …). Labels are either one class index per image
/// (``Labels/single(_:)``) or a multi-label matrix `[N, K]` of flags (``Labels/multi(_:)``):
///
/// ```
/// flag  1  the class is present
/// flag  0  the class is absent
/// flag -1  the class is present only as "difficult" (PASCAL VOC); ignore it when scoring
/// ```
public struct ImageSet: Sendable, Equatable {
    /// The labels of an image set.
    public enum Labels: Sendable, Equatable {
        /// One class index in `0..<K` per image.
        case single([Int64])
        /// A row-major `[N, K]` matrix of flags 1 / 0 / -1 (present / absent / difficult).
        case multi([Int8])
    }

    /// Per-class counts of the three multi-label flags.
    public struct FlagCounts: Sendable, Equatable, CustomStringConvertible {
        /// Images with flag 1.
        public var present: Int
        /// Images with flag 0.
        public var absent: Int
        /// Images with flag -1.
        public var difficult: Int

        public init(present: Int = 0, absent: Int = 0, difficult: Int = 0) {
            self.present = present
            self.absent = absent
            self.difficult = difficult
        }

        public var description: String { "(+\(present) -\(absent) ?\(difficult))" }
    }

    /// Pixels, `[count, channels, height, width]`, row-major.
    public var images: [UInt8]
    /// Number of images `N`.
    public let count: Int
    /// Channels per image `C` (1 grey, 3 RGB).
    public let channels: Int
    /// Image height `H` in pixels.
    public let height: Int
    /// Image width `W` in pixels.
    public let width: Int
    /// The labels, single- or multi-label.
    public var labels: Labels
    /// Class names in label order (`K` names).
    public var classNames: [String]
    /// Where the data came from (file, folder or archive path).
    public var source: String
    /// Which split this is (`"train"`, `"test"`, `"val"`, `"trainval"`, …).
    public var split: String

    /// Creates an image set, checking that the sizes agree.
    ///
    /// - Precondition: `images.count == count * channels * height * width`, and the labels have
    ///   `count` entries (single) or `count * classNames.count` entries (multi).
    public init(
        images: [UInt8], count: Int, channels: Int, height: Int, width: Int,
        labels: Labels, classNames: [String], source: String, split: String
    ) {
        precondition(count >= 0 && channels > 0 && height > 0 && width > 0, "bad image set shape")
        precondition(
            images.count == count * channels * height * width,
            "images has \(images.count) bytes, expected \(count)x\(channels)x\(height)x\(width)")
        switch labels {
        case .single(let values):
            precondition(values.count == count, "\(values.count) labels for \(count) images")
        case .multi(let flags):
            precondition(
                flags.count == count * classNames.count,
                "\(flags.count) flags for \(count) images x \(classNames.count) classes")
        }
        self.images = images
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.labels = labels
        self.classNames = classNames
        self.source = source
        self.split = split
    }

    /// Bytes per image, `C * H * W`.
    public var imageByteCount: Int { channels * height * width }

    /// Number of classes `K`.
    public var classCount: Int { classNames.count }

    /// Whether the labels are multi-label flags.
    public var isMultiLabel: Bool {
        if case .multi = labels { return true }
        return false
    }

    /// Images per class: for single labels the number of images of each class, for multi labels the
    /// number of images where the class is present (flag 1).
    public var labelCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        switch labels {
        case .single(let values):
            for value in values where value >= 0 && Int(value) < counts.count {
                counts[Int(value)] += 1
            }
        case .multi:
            for (k, flags) in flagCounts.enumerated() { counts[k] = flags.present }
        }
        return counts
    }

    /// Per-class counts of flags 1 / 0 / -1. For single labels, "present" is the class's images
    /// and "absent" all others.
    public var flagCounts: [FlagCounts] {
        let k = classCount
        var counts = [FlagCounts](repeating: FlagCounts(), count: k)
        switch labels {
        case .single:
            for (c, n) in labelCounts.enumerated() {
                counts[c] = FlagCounts(present: n, absent: count - n, difficult: 0)
            }
        case .multi(let flags):
            flags.withUnsafeBufferPointer { f in
                for i in 0..<count {
                    for c in 0..<k {
                        switch f[i * k + c] {
                        case 1: counts[c].present += 1
                        case -1: counts[c].difficult += 1
                        default: counts[c].absent += 1
                        }
                    }
                }
            }
        }
        return counts
    }

    /// The pixels of image `index` (`[C, H, W]`).
    public func image(at index: Int) -> ArraySlice<UInt8> {
        precondition(index >= 0 && index < count, "image index \(index) out of 0..<\(count)")
        return images[index * imageByteCount..<(index + 1) * imageByteCount]
    }

    /// The single label of image `index`. - Precondition: single-label set.
    public func label(at index: Int) -> Int64 {
        guard case .single(let values) = labels else {
            preconditionFailure("label(at:) on a multi-label set: use flags(at:)")
        }
        return values[index]
    }

    /// The `K` flags of image `index`. - Precondition: multi-label set.
    public func flags(at index: Int) -> ArraySlice<Int8> {
        guard case .multi(let flags) = labels else {
            preconditionFailure("flags(at:) on a single-label set: use label(at:)")
        }
        return flags[index * classCount..<(index + 1) * classCount]
    }

    /// A new set with the images (and labels) at `indices`, in that order (repeats allowed).
    public func subset(_ indices: some Collection<Int>) -> ImageSet {
        let n = indices.count
        let stride = imageByteCount
        let k = classCount
        var pixels = [UInt8](repeating: 0, count: n * stride)
        images.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for (j, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "subset index \(i) out of 0..<\(count)")
                    UnsafeMutableRawPointer(dst.baseAddress! + j * stride)
                        .copyMemory(from: src.baseAddress! + i * stride, byteCount: stride)
                }
            }
        }
        let newLabels: Labels
        switch labels {
        case .single(let values):
            newLabels = .single(indices.map { values[$0] })
        case .multi(let flags):
            var out = [Int8](repeating: 0, count: n * k)
            for (j, i) in indices.enumerated() {
                for c in 0..<k { out[j * k + c] = flags[i * k + c] }
            }
            newLabels = .multi(out)
        }
        return ImageSet(
            images: pixels, count: n, channels: channels, height: height, width: width,
            labels: newLabels, classNames: classNames, source: source, split: split)
    }

    /// Whether `part` can follow this set's parts in one set: the same image shape, class names, label kind,
    /// source and split; nil when it can, else what differs.
    public func mismatch(ofPart part: ImageSet) -> String? {
        guard (part.channels, part.height, part.width) == (channels, height, width), part.classNames == classNames,
            part.isMultiLabel == isMultiLabel, part.source == source, part.split == split
        else {
            return "a part of \(part.channels)x\(part.height)x\(part.width) images (split \(part.split), "
                + "\(part.classCount) classes) does not match the first part's \(channels)x\(height)x\(width) (split "
                + "\(split), \(classCount) classes)"
        }
        return nil
    }

    /// The parts of one set, in order, as one set (the parts a loader hands out a part at a time); nil for no
    /// parts. Throws when a part does not match the first (`mismatch(ofPart:)`).
    public static func concatenating(_ parts: [ImageSet]) throws(DatasetError) -> ImageSet? {
        guard let first = parts.first else { return nil }
        guard parts.count > 1 else { return first }
        var pixels = [UInt8](), single = [Int64](), multi = [Int8]()
        pixels.reserveCapacity(parts.reduce(0) { $0 + $1.images.count })
        for part in parts {
            if let problem = first.mismatch(ofPart: part) {
                throw .malformed(path: first.source, entry: nil, reason: problem + "; the loader's parts disagree")
            }
            pixels += part.images
            switch part.labels {
            case .single(let values): single += values
            case .multi(let flags): multi += flags
            }
        }
        return ImageSet(
            images: pixels, count: parts.reduce(0) { $0 + $1.count }, channels: first.channels, height: first.height,
            width: first.width, labels: first.isMultiLabel ? .multi(multi) : .single(single),
            classNames: first.classNames, source: first.source, split: first.split)
    }

    /// A copy with other pixels of another size (labels and metadata unchanged).
    func replacingImages(_ pixels: [UInt8], channels: Int, height: Int, width: Int) -> ImageSet {
        ImageSet(
            images: pixels, count: count, channels: channels, height: height, width: width,
            labels: labels, classNames: classNames, source: source, split: split)
    }
}
