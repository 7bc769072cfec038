import Foundation

/// Loader for the official *binary* CIFAR-10 and CIFAR-100 releases (Krizhevsky, 2009,
/// "Learning Multiple Layers of Features from Tiny Images").
///
/// Each file is a sequence of fixed-size records, one per 32x32 RGB image:
///
/// ```
/// CIFAR-10:  <1 label byte 0-9>                      <1024 R> <1024 G> <1024 B>   3,073 bytes
/// CIFAR-100: <1 coarse byte 0-19> <1 fine byte 0-99> <1024 R> <1024 G> <1024 B>   3,074 bytes
/// ```
///
/// The pixel part is already `[C, H, W]`, so records are copied as they are. Files may be raw,
/// gzip- or xz-compressed (xz through the `xz` tool, see ``XZ``), or read from the official
/// `cifar-10-binary.tar.gz` / `cifar-100-binary.tar.gz` without extracting them.
public enum CIFARBinary {
    /// Which release.
    public enum Variant: Sendable, Equatable {
        /// CIFAR-10: 10 classes, `data_batch_{1..5}.bin` and `test_batch.bin`.
        case cifar10
        /// CIFAR-100: 100 fine classes in 20 coarse superclasses, `train.bin` and `test.bin`.
        case cifar100

        /// Bytes per record.
        public var recordSize: Int { self == .cifar10 ? 3_073 : 3_074 }

        /// Folder name inside the official archive.
        public var folderName: String { self == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary" }

        /// Record files of a split, in order.
        public func fileNames(split: String) -> [String] {
            switch (self, split) {
            case (.cifar10, "train"): return (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, _): return ["test_batch.bin"]
            case (.cifar100, "train"): return ["train.bin"]
            case (.cifar100, _): return ["test.bin"]
            }
        }
    }

    /// Which CIFAR-100 label to use.
    public enum LabelKind: Sendable, Equatable {
        /// The 100 fine classes.
        case fine
        /// The 20 superclasses.
        case coarse
    }

    /// Bytes of one image, 3 x 32 x 32.
    public static let imageBytes = 3_072

    /// Loads record files (each raw, `.gz` or `.xz`) and concatenates them.
    ///
    /// - Parameters:
    ///   - files: paths of the record files.
    ///   - variant: CIFAR-10 or CIFAR-100.
    ///   - labels: fine or coarse labels (CIFAR-100 only).
    ///   - classNames: class names; `nil` reads `batches.meta.txt` (CIFAR-10) or
    ///     `fine_label_names.txt` / `coarse_label_names.txt` (CIFAR-100) beside the first file when
    ///     present, else uses the official names.
    ///   - split: the split name stored in the result.
    public static func load(
        files: [String], variant: Variant, labels: LabelKind = .fine, classNames: [String]? = nil,
        split: String
    ) throws(DatasetError) -> ImageSet {
        var parts: [(bytes: [UInt8], name: String)] = []
        for file in files { parts.append((try CompressedFile.read(path: file), file)) }
        var names = classNames
        if names == nil, let first = files.first {
            let folder = (first as NSString).deletingLastPathComponent
            let listName = metaFileName(variant: variant, labels: labels)
            let listPath = folder.isEmpty ? listName : folder + "/" + listName
            if FileManager.default.fileExists(atPath: listPath) {
                names = try ClassList.checked(
                    ImageFolder.lines(String(decoding: try CompressedFile.read(path: listPath), as: UTF8.self)),
                    path: listPath)
            }
        }
        let source =
            files.count == 1 ? files[0] : (files.first.map { ($0 as NSString).deletingLastPathComponent } ?? "")
        return try assemble(
            parts, variant: variant, labels: labels,
            classNames: names ?? officialClassNames(variant: variant, labels: labels),
            source: source, split: split)
    }

    /// Loads a split from the official release: its extracted folder (`cifar-10-batches-bin/`,
    /// `cifar-100-binary/` or their parent) or the official `.tar.gz`, read in place.
    ///
    /// - Parameters:
    ///   - path: the folder or the `.tar.gz`.
    ///   - variant: CIFAR-10 or CIFAR-100.
    ///   - split: `"train"` or `"test"`.
    ///   - labels: CIFAR-100's fine (100) or coarse (20) labels; ignored for CIFAR-10.
    public static func load(
        from path: String, variant: Variant, split: String, labels: LabelKind = .fine
    ) throws(DatasetError) -> ImageSet {
        guard split == "train" || split == "test" else {
            throw .unsupported(path: path, reason: "CIFAR splits are 'train' and 'test', not '\(split)'")
        }
        let tree = try FileTree(path: path)
        let wanted = Set(variant.fileNames(split: split) + [metaFileName(variant: variant, labels: labels)])
        let bundle = try tree.load { relative in
            wanted.contains(String(relative.split(separator: "/").last ?? ""))
        }
        var parts: [(bytes: [UInt8], name: String)] = []
        var names: [String]?
        for fileName in variant.fileNames(split: split) {
            guard let index = bundle.paths.firstIndex(where: { $0 == fileName || $0.hasSuffix("/" + fileName) }) else {
                throw .fileNotFound(
                    path: path + " [" + variant.folderName + "/" + fileName + "]",
                    remedy: "Use the official binary release (\(variant.folderName)), extracted or as .tar.gz.")
            }
            let place = tree.describe(bundle.paths[index])
            let name = place.entry.map { "\(place.path) [entry \($0)]" } ?? place.path
            parts.append((try CompressedFile.decompress(Array(bundle.contents(at: index)), name: name), name))
        }
        let listName = metaFileName(variant: variant, labels: labels)
        if let index = bundle.paths.firstIndex(where: { $0 == listName || $0.hasSuffix("/" + listName) }) {
            names = try ClassList.checked(
                ImageFolder.lines(String(decoding: bundle.contents(at: index), as: UTF8.self)),
                path: "\(bundle.origin) [entry \(bundle.paths[index])]")
        }
        return try assemble(
            parts, variant: variant, labels: labels,
            classNames: names ?? officialClassNames(variant: variant, labels: labels),
            source: path, split: split)
    }

    /// Splits record bytes into pixels and labels.
    ///
    /// - Throws: ``DatasetError/truncatedRecord(path:record:recordBytes:availableBytes:)`` naming
    ///   `name` and the index of the incomplete record; ``DatasetError/malformed(path:entry:reason:)``
    ///   for a label outside the class range.
    public static func decodeRecords(
        _ bytes: [UInt8], variant: Variant, labels: LabelKind = .fine, classCount: Int? = nil,
        name: String
    ) throws(DatasetError) -> (pixels: [UInt8], labels: [Int64]) {
        let recordSize = variant.recordSize
        let n = bytes.count / recordSize
        let remainder = bytes.count - n * recordSize
        if remainder != 0 {
            throw .truncatedRecord(
                path: name, record: n, recordBytes: recordSize, availableBytes: remainder)
        }
        let header = recordSize - imageBytes
        let labelOffset = variant == .cifar100 && labels == .fine ? 1 : 0
        let limit = classCount ?? officialClassNames(variant: variant, labels: labels).count
        var pixels = [UInt8](repeating: 0, count: n * imageBytes)
        var values = [Int64](repeating: 0, count: n)
        var badRecord: (index: Int, label: UInt8)?
        bytes.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                values.withUnsafeMutableBufferPointer { out in
                    for i in 0..<n {
                        let record = src.baseAddress! + i * recordSize
                        let label = record[labelOffset]
                        if Int(label) >= limit && badRecord == nil { badRecord = (i, label) }
                        out[i] = Int64(label)
                        (dst.baseAddress! + i * imageBytes).update(from: record + header, count: imageBytes)
                    }
                }
            }
        }
        if let badRecord {
            throw .malformed(
                path: name, entry: "record \(badRecord.index)",
                reason: "label \(badRecord.label) is outside 0..<\(limit); is this the right variant "
                    + "(CIFAR-10 records are 3,073 bytes, CIFAR-100 3,074)?")
        }
        return (pixels, values)
    }

    private static func assemble(
        _ parts: [(bytes: [UInt8], name: String)], variant: Variant, labels: LabelKind,
        classNames: [String], source: String, split: String
    ) throws(DatasetError) -> ImageSet {
        var pixels: [UInt8] = []
        var values: [Int64] = []
        for part in parts {
            let decoded = try decodeRecords(
                part.bytes, variant: variant, labels: labels, classCount: classNames.count,
                name: part.name)
            if pixels.isEmpty {
                pixels = decoded.pixels
            } else {
                pixels.append(contentsOf: decoded.pixels)
            }
            values.append(contentsOf: decoded.labels)
        }
        return ImageSet(
            images: pixels, count: values.count, channels: 3, height: 32, width: 32,
            labels: .single(values), classNames: classNames, source: source, split: split)
    }

    /// The class-name file of the official release.
    static func metaFileName(variant: Variant, labels: LabelKind) -> String {
        switch (variant, labels) {
        case (.cifar10, _): return "batches.meta.txt"
        case (.cifar100, .fine): return "fine_label_names.txt"
        case (.cifar100, .coarse): return "coarse_label_names.txt"
        }
    }

    /// The official class names in label order.
    public static func officialClassNames(variant: Variant, labels: LabelKind = .fine) -> [String] {
        switch (variant, labels) {
        case (.cifar10, _): return cifar10ClassNames
        case (.cifar100, .fine): return cifar100FineClassNames
        case (.cifar100, .coarse): return cifar100CoarseClassNames
        }
    }

    /// CIFAR-10 classes in label order.
    public static let cifar10ClassNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// CIFAR-100 fine classes in label order.
    public static let cifar100FineClassNames = """
        apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus \
        butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch \
        crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo \
        keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse \
        mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy \
        porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper \
        snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television \
        tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm
        """.split(separator: " ").map(String.init)

    /// CIFAR-100 superclasses in label order.
    public static let cifar100CoarseClassNames = """
        aquatic_mammals fish flowers food_containers fruit_and_vegetables \
        household_electrical_devices household_furniture insects large_carnivores \
        large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores \
        medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2
        """.split(separator: " ").map(String.init)
}
