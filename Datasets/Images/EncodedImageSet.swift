/// A split whose labels are read and whose images are still the encoded files (JPEG, PNG) the loader found: decoded
/// all at once (``decoded()``, what `load` returns) or a part at a time (``forEachPart(images:_:)``), so that a
/// set whose pixels do not fit in memory can be written to a data-set cache with one part's pixels held at a time.
/// The encoded files themselves stay in memory (a ``FileBundle``).
public struct EncodedImageSet: Sendable {
    let bundle: FileBundle
    let tree: FileTree
    /// The bundle's file of each image, in the set's order.
    let files: [Int]
    public let channels: Int
    /// The size every image is resized to.
    public let size: ImageSize
    let mode: ImageResampler.ResizeMode
    let threads: Int
    public let labels: ImageSet.Labels
    public let classNames: [String]
    public let source: String
    public let split: String

    /// `size` nil takes the size of the first image.
    init(
        bundle: FileBundle, tree: FileTree, files: [Int], channels: Int, size: ImageSize?,
        mode: ImageResampler.ResizeMode, threads: Int, labels: ImageSet.Labels, classNames: [String],
        source: String, split: String
    ) throws(DatasetError) {
        self.bundle = bundle
        self.tree = tree
        self.files = files
        self.channels = channels
        self.size = try ImageBatchDecoder.targetSize(bundle, indices: files, tree: tree, channels: channels, size: size)
        self.mode = mode
        self.threads = threads
        self.labels = labels
        self.classNames = classNames
        self.source = source
        self.split = split
    }

    public var count: Int { files.count }

    /// Every image decoded.
    public func decoded() throws(DatasetError) -> ImageSet { try part(0..<count) }

    /// Images `rows` decoded, with their labels.
    public func part(_ rows: Range<Int>) throws(DatasetError) -> ImageSet {
        let pixels = try ImageBatchDecoder.decode(
            bundle, indices: Array(files[rows]), tree: tree, channels: channels, target: size, mode: mode,
            threads: threads)
        let partLabels: ImageSet.Labels
        switch labels {
        case .single(let values): partLabels = .single(Array(values[rows]))
        case .multi(let flags):
            let k = classNames.count
            partLabels = .multi(Array(flags[(rows.lowerBound * k)..<(rows.upperBound * k)]))
        }
        return ImageSet(
            images: pixels, count: rows.count, channels: channels, height: size.height, width: size.width,
            labels: partLabels, classNames: classNames, source: source, split: split)
    }

    /// Calls `body` with consecutive parts of `images` images (the last may be smaller), in order; an empty set
    /// is one empty part.
    public func forEachPart(images: Int, _ body: (ImageSet) throws -> Void) throws {
        if count == 0 { return try body(try part(0..<0)) }
        let step = max(1, images)
        for start in stride(from: 0, to: count, by: step) {
            try body(try part(start..<min(count, start + step)))
        }
    }
}
