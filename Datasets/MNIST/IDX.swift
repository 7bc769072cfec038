/// Loader for MNIST-style IDX files (LeCun et al., 1998), used by MNIST and Fashion-MNIST
/// (Xiao, Rasul, Vollgraf, 2017).
///
/// An IDX file is a big-endian header followed by the data:
///
/// ```
/// magic (4 bytes): 0x00 0x00 <type 0x08 = ubyte> <number of dimensions>
/// dimension sizes: one big-endian UInt32 each
/// data:            product of the sizes, row-major
/// ```
///
/// Image files have magic `0x00000803` (`[N, rows, columns]`), label files `0x00000801` (`[N]`).
/// Files may be raw or gzip-compressed (detected from the content).
public enum IDX {
    /// Magic number of an unsigned-byte image file with 3 dimensions.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte label file with 1 dimension.
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Parses an IDX file held in memory and checks its magic number.
    ///
    /// - Returns: the dimension sizes and the data bytes.
    /// - Throws: ``DatasetError/badMagic(path:expected:found:)`` when the magic differs from
    ///   `expectedMagic`; ``DatasetError/truncatedRecord(path:record:recordBytes:availableBytes:)``
    ///   when the data is shorter than the header says.
    public static func parse(_ bytes: [UInt8], expectedMagic: UInt32, name: String)
        throws(DatasetError) -> (dimensions: [Int], data: ArraySlice<UInt8>)
    {
        func word(_ offset: Int) -> UInt32 {
            bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        guard bytes.count >= 4 else {
            throw .malformed(path: name, entry: nil, reason: "file has \(bytes.count) bytes, no IDX header")
        }
        let magic = word(0)
        guard magic == expectedMagic else {
            throw .badMagic(path: name, expected: expectedMagic, found: magic)
        }
        let rank = Int(magic & 0xff)
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw .malformed(path: name, entry: nil, reason: "IDX header cut short")
        }
        let dimensions = (0..<rank).map { Int(word(4 + 4 * $0)) }
        // Sizes come from the file: checked against overflow and the file's real length before any use.
        guard let itemSize = Array(dimensions.dropFirst()).checkedProduct,
            let total = dimensions.checkedProduct,
            case (let expected, false) = headerSize.addingReportingOverflow(total)
        else {
            throw .malformed(path: name, entry: nil, reason: "IDX dimensions \(dimensions) overflow")
        }
        if bytes.count < expected {
            let available = bytes.count - headerSize
            throw .truncatedRecord(
                path: name, record: available / max(itemSize, 1), recordBytes: itemSize,
                availableBytes: available % max(itemSize, 1))
        }
        return (dimensions, bytes[headerSize..<expected])
    }

    /// Loads an image file and a label file into a single-label ``ImageSet`` of 1-channel images.
    ///
    /// - Parameters:
    ///   - images: path of the `*-images-idx3-ubyte[.gz]` file.
    ///   - labels: path of the `*-labels-idx1-ubyte[.gz]` file.
    ///   - classNames: class names (default: the digits "0" … "9").
    ///   - split: the split name stored in the result.
    public static func load(
        images: String, labels: String, classNames: [String] = (0..<10).map(String.init),
        split: String
    ) throws(DatasetError) -> ImageSet {
        let imageFile = try parse(
            try CompressedFile.read(path: images), expectedMagic: imagesMagic, name: images)
        let labelFile = try parse(
            try CompressedFile.read(path: labels), expectedMagic: labelsMagic, name: labels)
        let n = imageFile.dimensions[0]
        guard imageFile.dimensions[1] > 0, imageFile.dimensions[2] > 0 else {
            throw .malformed(
                path: images, entry: nil,
                reason: "images of \(imageFile.dimensions[1])x\(imageFile.dimensions[2]) pixels; an IDX image file "
                    + "gives rows and columns > 0")
        }
        guard labelFile.dimensions[0] == n else {
            throw .malformed(
                path: labels, entry: nil,
                reason: "\(labelFile.dimensions[0]) labels for \(n) images in \(images); "
                    + "the two files do not belong together")
        }
        var values = [Int64](repeating: 0, count: n)
        for (i, label) in labelFile.data.enumerated() {
            guard Int(label) < classNames.count else {
                throw .malformed(
                    path: labels, entry: "record \(i)",
                    reason: "label \(label) is outside 0..<\(classNames.count)")
            }
            values[i] = Int64(label)
        }
        return ImageSet(
            images: Array(imageFile.data), count: n, channels: 1, height: imageFile.dimensions[1],
            width: imageFile.dimensions[2], labels: .single(values), classNames: classNames,
            source: images, split: split)
    }
}
